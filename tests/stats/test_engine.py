"""Unit tests of the statistics engine: input checks, edge cases, batch API, JSON safety, imports."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.stats import (cumulative, escalc, influence, leave_one_out, ranktest, regtest, rma, rma_batch,
                              subgroup_analysis, trimfill)

YI = [0.95, 1.03, 0.20, 1.17, -0.10, 0.60]
VI = [0.28, 0.24, 0.34, 0.25, 0.30, 0.20]
NAMES = ["Liao 2021", "Xu 2022", "Chen 2020", "Li 2023", "Wang 2019", "Zhou 2024"]


# ---------------------------------------------------------------- input checks name the study
@pytest.mark.parametrize("vi, fragment", [
    ([0.28, 0.24, -0.1, 0.25, 0.30, 0.20], "Chen 2020': vi must be > 0"),
    ([0.28, 0.24, 0.0, 0.25, 0.30, 0.20], "Chen 2020': vi must be > 0"),
    ([0.28, float("nan"), 0.34, 0.25, 0.30, 0.20], "Xu 2022': vi is missing"),
])
def test_bad_variances_name_the_study(vi, fragment):
    with pytest.raises(ReviewInputError) as exc:
        rma(YI, vi, labels=NAMES)
    assert fragment in str(exc.value)


def test_missing_effect_and_mismatched_lengths_and_empty():
    with pytest.raises(ReviewInputError, match="Wang 2019': yi is missing"):
        rma([0.95, 1.03, 0.20, 1.17, None, 0.60], VI, studies=NAMES)
    with pytest.raises(ReviewInputError, match="yi has 6 values but vi has 5"):
        rma(YI, VI[:5])
    with pytest.raises(ReviewInputError, match="k = 0"):
        rma([], [])
    with pytest.raises(ReviewInputError, match="unknown tau2 estimator"):
        rma(YI, VI, method="XYZ")


def test_na_omit_drops_and_reports_studies():
    res = rma([0.95, None, 0.20, 1.17, -0.10, 0.60], VI, labels=NAMES, na="omit")
    assert res.k == 5
    assert "Xu 2022" in res.warnings[0]
    ref = rma([0.95, 0.20, 1.17, -0.10, 0.60], [0.28, 0.34, 0.25, 0.30, 0.20])
    assert res.estimate == pytest.approx(ref.estimate, rel=1e-12)


# ---------------------------------------------------------------- edge cases
def test_k1_is_not_pooled_and_says_so():
    d = rma([0.5], [0.1], test="knha").to_dict()
    assert d["k"] == 1 and d["test"] == "z" and d["tau2"] == 0.0
    assert d["estimate"] == 0.5
    assert d["ci_lb"] == pytest.approx(0.5 - 1.959963984540054 * math.sqrt(0.1), rel=1e-12)
    assert d["tau2_ci_lb"] is None and d["se_tau2"] is None
    assert any("no pooling" in w for w in d["warnings"])
    assert d["weights"] == [100.0]


def test_k2_and_identical_effects_give_zero_width_knha_ci_with_warning():
    d = rma([0.5, 0.5], [0.1, 0.2], test="knha").to_dict()
    assert d["tau2"] == 0.0 and d["se"] == 0.0 and d["ci_lb"] == d["ci_ub"] == 0.5
    assert any("scale factor is 0" in w for w in d["warnings"])
    json.dumps(d, allow_nan=False)  # zval is infinite here: must come out as null


def test_tau2_on_boundary_gives_zero_and_qprofile_lower_zero():
    res = rma([0.1, 0.5, -0.2, 0.3], [0.1, 0.2, 0.15, 0.1])
    assert res.tau2 == 0.0 and res.I2 == 0.0
    assert res.tau2_ci[0] == 0.0 and res.tau2_ci[1] > 0
    tiny_q = rma([0.1, 0.12, 0.11, 0.09], [0.1, 0.2, 0.15, 0.1])
    assert tiny_q.tau2_ci == (0.0, 0.0) and any("null set" in w for w in tiny_q.warnings)


def test_to_dict_is_plain_json():
    d = rma(YI, VI, labels=NAMES).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    assert sum(d["weights"]) == pytest.approx(100.0)
    for key in ("k", "method", "test", "level", "estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2",
                "se_tau2", "tau2_ci_lb", "tau2_ci_ub", "I2", "H2", "Q", "Q_df", "Q_pval", "pi_lb", "pi_ub",
                "weights", "warnings"):
        assert key in d
    assert all(type(v) in (int, float, str, bool, list, type(None)) for v in d.values())


def test_metaregression_dict_has_coefficients_and_qm():
    d = rma(YI, VI, mods={"dose": [1, 2, 3, 4, 5, 6]}).to_dict()
    assert [c["name"] for c in d["coefficients"]] == ["intrcpt", "dose"]
    assert d["QM_df"] == 1 and d["QM_df2"] == 4  # F test with knha
    with pytest.raises(ReviewInputError, match="collinear"):
        rma(YI, VI, mods={"a": [1, 2, 3, 4, 5, 6], "b": [2, 4, 6, 8, 10, 12]})


def test_fe_with_knha_warns_like_metafor():
    res = rma(YI, VI, method="FE", test="knha")
    assert any("not meant to be used" in w for w in res.warnings)
    assert res.to_dict()["pi_lb"] is None


# ---------------------------------------------------------------- batch API = single fits
@pytest.mark.parametrize("method", ["DL", "REML", "PM", "SJ", "EB", "ML", "HE", "HS", "FE"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_batch_rows_equal_single_fits(method, test):
    rng = np.random.default_rng(7)
    m, K = 25, 9
    v = rng.uniform(0.02, 0.6, (m, K))
    y = rng.normal(0.3, np.sqrt(v + rng.choice([0, 0.1, 1.0], (m, 1))))
    ks = rng.integers(1, K + 1, m)
    mask = np.arange(K)[None, :] < ks[:, None]
    out = rma_batch(y, v, mask, method=method, test=test)
    for i in range(m):
        single = rma(y[i, : ks[i]], v[i, : ks[i]], method=method, test=test).to_dict()
        for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "I2", "Q", "pi_lb", "tau2_ci_ub"):
            a, b = out[key][i], single[key]
            if b is None:
                assert not np.isfinite(a), (i, key)
            else:
                assert a == pytest.approx(b, rel=1e-10, abs=1e-13), (i, key)
        assert out["k"][i] == ks[i]
        assert out["weights"][i, : ks[i]].sum() == pytest.approx(100.0)


def test_batch_rejects_bad_cells_and_handles_empty_rows():
    y = np.array([[0.1, 0.2, np.nan], [np.nan, np.nan, np.nan]])
    v = np.array([[0.1, 0.1, np.nan], [np.nan, np.nan, np.nan]])
    out = rma_batch(y, v)
    assert out["k"].tolist() == [2, 0] and np.isnan(out["estimate"][1])
    with pytest.raises(ReviewInputError, match="analysis 0, study 1"):
        rma_batch([[0.1, 0.2]], [[0.1, -0.1]])


# ---------------------------------------------------------------- subgroups, sensitivity
def test_subgroups_separate_single_study_level_and_single_level():
    out = subgroup_analysis(YI, VI, ["a", "a", "a", "b", "b", "c"], labels=NAMES)
    c = [r for r in out["levels"] if r["level"] == "c"][0]
    assert c["k"] == 1 and c["estimate"] == 0.60 and c["studies"] == ["Zhou 2024"]
    assert out["Q_between_df"] == 2 and out["Q_between"] is not None
    one = subgroup_analysis(YI, VI, ["a"] * 6)
    assert one["Q_between"] is None and any("one subgroup" in w for w in one["warnings"])
    with pytest.raises(ReviewInputError, match="Chen 2020': subgroup value is missing"):
        subgroup_analysis(YI, VI, ["a", "a", "", "b", "b", "c"], labels=NAMES)


def test_leave_one_out_in_input_order_and_k1():
    out = leave_one_out(YI, VI, labels=NAMES)
    assert [r["omitted"] for r in out] == list(range(6)) and [r["study"] for r in out] == NAMES
    ref = rma(YI[1:], VI[1:])
    assert out[0]["estimate"] == pytest.approx(ref.estimate, rel=1e-12)
    single = leave_one_out([0.3], [0.1])
    assert single[0]["k"] == 0 and single[0]["estimate"] is None


def test_cumulative_orders_by_year_with_stable_ties():
    steps = cumulative(YI, VI, order=[2021, 2022, 2020, 2023, 2019, 2022], labels=NAMES)
    assert [s["study"] for s in steps] == ["Wang 2019", "Chen 2020", "Liao 2021", "Xu 2022", "Zhou 2024", "Li 2023"]
    assert steps[-1]["estimate"] == pytest.approx(rma(YI, VI).estimate, rel=1e-12)


def test_influence_flags_an_outlier():
    y = [0.3, 0.35, 0.28, 0.31, 0.33, 3.5]
    v = [0.01, 0.012, 0.011, 0.009, 0.01, 0.01]
    out = influence(y, v, method="REML", test="z")
    assert [r["is_infl"] for r in out["studies"]] == [False] * 5 + [True]


def test_small_study_functions_need_three_studies():
    with pytest.raises(ReviewInputError, match="at least 3"):
        regtest([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(ReviewInputError, match="needs the sample sizes"):
        regtest(YI, VI, predictor="sqrtninv")
    r = regtest(YI, VI, predictor="sqrtninv", ni=[20, 24, 16, 30, 12, 40], model="lm")
    assert r["dfs"] == 4 and 0 <= r["pval"] <= 1
    assert 0 <= ranktest(YI, VI)["pval"] <= 1
    tf = trimfill(YI, VI)
    assert len(tf["yi"]) == 6 + tf["k0"] and tf["fill"].count(True) == tf["k0"]


# ---------------------------------------------------------------- light imports
def test_import_does_not_load_scipy_stats_or_pandas():
    code = ("import sys, livingmeta.stats as s; "
            "bad = [m for m in ('scipy.stats', 'pandas', 'scipy.optimize') if m in sys.modules]; "
            "s.rma([0.1, 0.3, 0.2], [0.1, 0.2, 0.1]); "
            "bad += [m for m in ('scipy.stats', 'pandas', 'scipy.optimize') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
