"""Multilevel model, shared-group covariance and CR2 tests against metafor 3.8-1 / clubSandwich 0.5.8.

Reference values: validation/metafor/reference/multilevel.json, written by
validation/metafor/make_multilevel_reference.R (the R call is stored beside every block).

Two kinds of comparison:
* with sigma2 fixed at metafor's estimate (metafor's ``sigma2=`` argument): every quantity (estimates,
  SEs, CIs, p-values, QE, QM, I2, PI, logLik, CR2 SEs/df/p/CIs) within 1e-6 relative;
* with sigma2 estimated by both programs: sigma2 within 1e-4 relative (absolute 1e-8 on the boundary,
  where metafor's log-scale optimiser stops at ~3e-10 and livingmeta reaches 0) and livingmeta's REML/ML
  optimum at least as high as metafor's (metafor's nlminb stops at its default tolerance, measured up
  to 6.3e-5 relative from the optimum in sigma2 on the flat surfaces of the seeded shared-control
  set); on the two published datasets every quantity agrees within 1e-6 relative (1e-4 for the
  two-moderator assink2016 fit, where nlminb stops 2.4e-6 away in sigma2).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.stats import combine_arms, split_shared_control
from livingmeta.stats.multilevel import rma_mv, shared_control_covariance, vcalc_shared_group
from livingmeta.stats.robust import robust_cr2

REF = json.loads((Path(__file__).resolve().parents[2] / "validation" / "metafor" / "reference"
                  / "multilevel.json").read_text())
RTOL = 1e-6


def _close(got, exp, rtol=RTOL, atol=1e-10, what=""):
    got = np.atleast_1d(np.asarray(got, dtype=float))
    exp = np.atleast_1d(np.asarray(exp, dtype=float))
    assert got.shape == exp.shape, what
    np.testing.assert_allclose(got, exp, rtol=rtol, atol=atol, err_msg=what)


def _args(data, call):
    k = len(data["yi"])
    V = np.array(data["V"]).reshape(k, k) if "yi, V" in call else data["vi"]
    mods = None
    if "I(year - 1990)" in call:
        mods = {"year": np.array(data["year"]) - 1990}
    elif "I(year - 2000) + deltype" in call:
        mods = {"year": np.array(data["year"]) - 2000, "deltype": data["deltype"]}
    elif "deltype" in call:
        mods = {"deltype": data["deltype"]}
    elif "~ dose" in call:
        mods = {"dose": np.array(data["dose"], dtype=float)}
    return dict(yi=data["yi"], V=V, study=data["study"],
                experiment=data.get("experiment") if "experiment/" in call else None,
                comparison=data["comparison"], mods=mods, method="ML" if "'ML'" in call else "REML",
                test="t" if "test = 't'" in call else "z", dfs="contain" if "contain" in call else "residual")


CASES = [(d, f) for d, ds in REF["datasets"].items() for f in ds["fits"]]
PUBLISHED = ("konstantopoulos2011", "assink2016")


def _check_all(res, ref, rtol, what):
    _close(res.beta, ref["beta"], rtol, what=what + " beta")
    _close(res.se, ref["se"], rtol, what=what + " se")
    _close(res.zval, ref["zval"], rtol, what=what + " zval")
    _close(res.pval, ref["pval"], rtol, what=what + " pval")
    _close(res.ci_lb, ref["ci_lb"], rtol, what=what + " ci_lb")
    _close(res.ci_ub, ref["ci_ub"], rtol, what=what + " ci_ub")
    _close(res.QE, ref["QE"], rtol, what=what + " QE")
    _close(res.QE_pval, ref["QEp"], rtol, what=what + " QEp")
    _close(res.QM, ref["QM"], rtol, what=what + " QM")
    _close(res.QM_pval, ref["QMp"], rtol, what=what + " QMp")
    _close(res.I2, ref["I2"], rtol, atol=1e-6, what=what + " I2")
    _close(res.I2_total, ref["I2_total"], rtol, what=what + " I2_total")
    _close(res.logLik, ref["logLik"], rtol, what=what + " logLik")
    assert res.s_nlevels == [int(x) for x in np.atleast_1d(ref["s_nlevels"])]
    if res.test == "t":
        _close(res.ddf, ref["ddf"], 0, what=what + " ddf")
        assert res.QM_df[1] == float(np.atleast_1d(ref["QMdf"])[1])
    if "pi_lb" in ref:
        _close([res.pi_lb, res.pi_ub], [ref["pi_lb"], ref["pi_ub"]], rtol, what=what + " PI")


@pytest.mark.parametrize("dataset,fit", CASES)
def test_fixed_sigma2_matches_metafor(dataset, fit):
    """Everything but the optimiser: metafor with sigma2 fixed at its estimate."""
    ref = REF["datasets"][dataset]["fits"][fit]["fixed_sigma2"]
    res = rma_mv(**_args(REF["datasets"][dataset]["data"], ref["call"]), sigma2=ref["sigma2"])
    _check_all(res, ref, RTOL, f"{dataset}/{fit} ({ref['call']})")
    cr = robust_cr2(res)
    exp = ref["cr2"]
    for key, got in (("se", cr["se"]), ("tstat", cr["tval"]), ("df", cr["df"]), ("pval", cr["pval"]),
                     ("ci_lb", cr["ci_lb"]), ("ci_ub", cr["ci_ub"])):
        _close(got, exp[key], RTOL, what=f"{dataset}/{fit} CR2 {key}")
    _close(cr["vcov"].ravel(order="F"), exp["vcov"], RTOL, atol=1e-12, what="CR2 vcov")
    _close(cr["se"], exp["robust_se"], RTOL, what="metafor robust(clubSandwich=TRUE) se")
    _close(cr["pval"], exp["robust_pval"], RTOL, what="metafor robust(clubSandwich=TRUE) pval")
    if res.p > 1:   # HTZ Wald test of the moderators, as metafor robust(..., clubSandwich = TRUE)
        w = cr["wald"]
        _close([w["F"], w["df_denom"], w["pval"]], [exp["robust_QM"], exp["robust_QMdf"][1], exp["robust_QMp"]],
               RTOL, what=f"{dataset}/{fit} CR2 HTZ Wald test")
        assert w["df_num"] == exp["robust_QMdf"][0]
    else:
        assert cr["wald"] is None


@pytest.mark.parametrize("dataset,fit", CASES)
def test_estimated_sigma2_matches_metafor(dataset, fit):
    ref = REF["datasets"][dataset]["fits"][fit]
    res = rma_mv(**_args(REF["datasets"][dataset]["data"], ref["call"]))
    assert res.converged
    _close(res.sigma2, ref["sigma2"], 1e-4, atol=1e-8, what=f"{dataset}/{fit} sigma2")
    assert res.logLik >= ref["logLik"] - 1e-9 * abs(ref["logLik"])
    assert res.sigma2_levels[0] == "study" and res.sigma2_levels[-1] == "comparison"
    if dataset in PUBLISHED:
        _check_all(res, ref, 1e-4 if fit == "year_deltype_V_t_contain" else RTOL, f"{dataset}/{fit}")


def test_vcalc_shared_group_matches_metafor():
    data = REF["datasets"]["shared_controls"]["data"]
    k = len(data["yi"])
    V = vcalc_shared_group(data["vi"], data["study"], data["trt"], data["ctrl"], data["n1i"], data["n2i"])
    np.testing.assert_allclose(V, np.array(data["V"]).reshape(k, k), rtol=1e-12, atol=1e-15)
    assert np.count_nonzero(V - np.diag(np.diag(V))) > 0


def test_vcalc_two_doses_one_control_by_hand():
    # r = (1/nc) / sqrt((1/n1 + 1/nc)(1/n2 + 1/nc))
    V = vcalc_shared_group([0.2, 0.3], ["a", "a"], ["t1", "t2"], ["c", "c"], [8, 10], [6, 6])
    r = (1 / 6) / np.sqrt((1 / 8 + 1 / 6) * (1 / 10 + 1 / 6))
    assert V[0, 1] == pytest.approx(r * np.sqrt(0.2 * 0.3), rel=1e-14)


def test_shared_control_covariance_formulas():
    # MD: the shared arm's variance of the mean; ROM: its delta-method variance; log OR: 1/c + 1/d
    assert shared_control_covariance("MD", n1i=8, n1j=9, n2=10, sd2=3.0) == pytest.approx(0.9)
    assert shared_control_covariance("ROM", n1i=8, n1j=9, n2=10, sd2=3.0, m2=20.0) == pytest.approx(9 / 4000)
    assert shared_control_covariance("OR", n1i=8, n1j=9, n2=10, c2=4) == pytest.approx(1 / 4 + 1 / 6)
    assert shared_control_covariance("RR", n1i=8, n1j=9, n2=10, c2=4) == pytest.approx(1 / 4 - 1 / 10)
    assert shared_control_covariance("SMD", n1i=8, n1j=9, n2=10, yi=0.5, yj=0.8) == pytest.approx(
        0.1 + 0.4 / 54)
    with pytest.raises(ReviewInputError):
        shared_control_covariance("HR", n1i=1, n1j=1, n2=2)


def test_multilevel_needs_two_studies():
    with pytest.raises(ReviewInputError, match="at least 2 studies"):
        rma_mv([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], study=["a", "a", "a"])


def test_fixed_sigma2_wrong_length():
    with pytest.raises(ReviewInputError, match="sigma2"):
        rma_mv([0.1, 0.2, 0.3, 0.4], [0.1] * 4, study=["a", "a", "b", "b"], sigma2=[0.1])


def test_to_dict_fields():
    d = REF["datasets"]["konstantopoulos2011"]["data"]
    out = rma_mv(d["yi"], d["vi"], study=d["study"], comparison=d["comparison"], test="t", dfs="contain").to_dict()
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "pi_lb", "pi_ub", "sigma2", "sigma2_levels", "QE",
                "QE_df", "QE_pval", "I2", "I2_total", "ddf"):
        assert key in out
    assert out["sigma2_levels"] == ["study", "comparison"] and len(out["sigma2"]) == 2
    json.dumps(out, allow_nan=False)


def test_combine_arms_cochrane_formula():
    # Cochrane Handbook 6.5.2.10 Table 6.5.a, written out
    n, m, sd = combine_arms(10, 5.0, 2.0, 12, 7.0, 3.0)
    assert n == 22 and m == pytest.approx((50 + 84) / 22)
    var = (9 * 4 + 11 * 9 + 10 * 12 / 22 * 4) / 21
    assert sd == pytest.approx(np.sqrt(var))


def test_split_shared_control():
    assert split_shared_control(10, 3) == [4, 3, 3]
    with pytest.raises(ReviewInputError):
        split_shared_control(2, 3)


# --------------------------------------------------------------------------------------------------
# livingmeta pool FILE.csv --multilevel
# --------------------------------------------------------------------------------------------------

SHARED = """study,experiment,comparison,control_group,m1i,sd1i,n1i,m2i,sd2i,n2i
Liao 2022,E1,10 ug,C1,14,3,8,10,3,9
Liao 2022,E1,50 ug,C1,16,3.5,8,,,
Xu 2021,E1,low,C1,12,2.5,7,9,2.4,8
Xu 2021,E1,high,C1,13.5,2.8,7,,,
Xu 2021,E2,low,C2,11,2.1,6,9.5,2.2,6
Chen 2020,E1,A,,10,2,6,8,2,6
Wang 2019,E1,A,,11,2,7,8,2.2,7
Li 2023,E1,A,C1,14,3,9,10,3.5,10
Li 2023,E1,B,C1,15,3,9,,,
"""


def _pool(tmp_path, text, *argv):
    import argparse

    from livingmeta.commands import pool
    f = tmp_path / "t.csv"
    f.write_text(text, encoding="utf-8")
    parser = argparse.ArgumentParser()
    pool.add_arguments(parser)
    return pool.run(parser.parse_args([str(f), "--multilevel", *argv]))


def test_cli_yi_vi_matches_metafor(tmp_path, capsys):
    d = REF["datasets"]["konstantopoulos2011"]["data"]
    text = "study,comparison,yi,vi\n" + "".join(f"{s},{c},{y!r},{v!r}\n" for s, c, y, v in
                                               zip(d["study"], d["comparison"], d["yi"], d["vi"]))
    assert _pool(tmp_path, text) == 0
    out = json.loads(capsys.readouterr().out)
    ref = REF["datasets"]["konstantopoulos2011"]["fits"]["reml_t_contain"]   # default test: t, dfs contain
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval"):
        assert out[key] == pytest.approx(np.atleast_1d(ref[key.replace("estimate", "beta")])[0], rel=RTOL), key
    _close(out["sigma2"], ref["sigma2"], what="sigma2")
    _close([out["QE"], out["QE_pval"], out["pi_lb"], out["pi_ub"], out["ddf"]],
           [ref["QE"], ref["QEp"], ref["pi_lb"], ref["pi_ub"], ref["ddf"]], what="QE, PI, ddf")
    assert out["sigma2_levels"] == ["study", "comparison"] and out["QE_df"] == ref["k"] - 1
    assert out["random"] == "~ 1 | study/comparison"


def test_cli_shared_controls_covariance_and_split(tmp_path, capsys):
    from livingmeta.stats import escalc
    assert _pool(tmp_path, SHARED, "--robust") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["shared_control"] == "vcalc" and out["sigma2_levels"] == ["study", "experiment", "comparison"]
    # the same model from the library: control arms filled in, vcalc covariance
    m1 = [14, 16, 12, 13.5, 11, 10, 11, 14, 15]
    sd1 = [3, 3.5, 2.5, 2.8, 2.1, 2, 2, 3, 3]
    n1 = [8, 8, 7, 7, 6, 6, 7, 9, 9]
    m2 = [10, 10, 9, 9, 9.5, 8, 8, 10, 10]
    sd2 = [3, 3, 2.4, 2.4, 2.2, 2, 2.2, 3.5, 3.5]
    n2 = [9, 9, 8, 8, 6, 6, 7, 10, 10]
    yi, vi = escalc("SMD", m1i=m1, sd1i=sd1, n1i=n1, m2i=m2, sd2i=sd2, n2i=n2)
    study = ["L", "L", "X", "X", "X", "C", "W", "Li", "Li"]
    V = vcalc_shared_group(vi, study, list(range(9)), ["L", "L", "X", "X", "X2", "C", "W", "Li", "Li"], n1, n2)
    assert V[0, 1] > 0 and V[3, 4] == 0
    fit = rma_mv(yi, V, study=study, experiment=["1", "1", "1", "1", "2", "1", "1", "1", "1"],
                 comparison=[str(i) for i in range(9)], test="t", dfs="contain")
    assert out["estimate"] == pytest.approx(fit.beta[0], rel=1e-9)
    assert out["se"] == pytest.approx(fit.se[0], rel=1e-9)
    assert out["robust"]["se"] == pytest.approx(robust_cr2(fit)["se"][0], rel=1e-9)
    assert _pool(tmp_path, SHARED, "--shared-control", "split", "--test", "z") == 0
    out2 = json.loads(capsys.readouterr().out)
    assert out2["shared_control"] == "split" and out2["test"] == "z"
    assert [c.get("n2i_split") for c in out2["comparisons"]][:2] == [5, 4]


@pytest.mark.parametrize("text,args,message", [
    (SHARED.replace("Liao 2022,E1,10 ug,C1,14,3,8,10,3,9", "Liao 2022,E1,10 ug,C1,14,3,8,,,"), (),
     "shared control 'C1' is named but not defined"),
    (SHARED.replace("50 ug", "10 ug"), (), "comparison '10 ug' of study 'Liao 2022' is used twice"),
    (SHARED.replace("10,3,9\n", "10,3,3\n"), ("--shared-control", "split"), "fewer than 2 per comparison"),
    ("study,comparison,yi,vi\nA,1,0.1,0.1\nA,2,0.2,0.1\n", (), "at least 2 studies"),
    ("study,yi,vi\nA,0.1,0.1\nB,0.2,0.1\n", (), "needs a 'comparison' column"),
    (SHARED, ("--method", "DL"), "REML or ML"),
])
def test_cli_bad_input(tmp_path, capsys, text, args, message):
    assert _pool(tmp_path, text, *args) == 1
    err = capsys.readouterr().err
    assert err.startswith("livingmeta: error: ") and message in err and "Traceback" not in err


def test_cli_moderator_matches_metafor(tmp_path, capsys):
    d = REF["datasets"]["assink2016"]["data"]
    text = "study,comparison,yi,vi,deltype\n" + "".join(
        f"{s},{c},{y!r},{v!r},{t}\n" for s, c, y, v, t in zip(d["study"], d["comparison"], d["yi"], d["vi"],
                                                              d["deltype"]))
    assert _pool(tmp_path, text, "--moderator", "deltype", "--robust") == 0
    out = json.loads(capsys.readouterr().out)
    ref = REF["datasets"]["assink2016"]["fits"]["deltype_t_contain"]
    _close([c["estimate"] for c in out["coefficients"]], ref["beta"], what="beta")
    _close([c["ci_lb"] for c in out["coefficients"]], ref["ci_lb"], what="ci_lb")
    _close([out["QM"], out["QM_pval"]], [ref["QM"], ref["QMp"]], what="QM")
    assert out["QM_df"] == ref["QMdf"] and "estimate" not in out
    _close([c["se"] for c in out["robust"]["coefficients"]], ref["cr2"]["se"], 1e-5, what="CR2 se")
    assert out["robust"]["wald"]["test"] == "HTZ"


def test_cr2_general_path_equals_blockwise_path():
    """The dense formulas (used when the working covariance links clusters) give the blockwise ones."""
    ref = REF["datasets"]["assink2016"]["fits"]["year_deltype_V_t_contain"]["fixed_sigma2"]
    fit = rma_mv(**_args(REF["datasets"]["assink2016"]["data"], ref["call"]), sigma2=ref["sigma2"])
    a, b = robust_cr2(fit), robust_cr2(fit, _general=True)
    for key in ("se", "df", "pval"):
        _close(a[key], b[key], 1e-9, what=key)
    _close([a["wald"]["F"], a["wald"]["df_denom"]], [b["wald"]["F"], b["wald"]["df_denom"]], 1e-9)


def test_shared_control_V_equals_vcalc_reference():
    from livingmeta.stats import shared_control_V
    data = REF["datasets"]["shared_controls"]["data"]
    k = len(data["yi"])
    ctrl = [c.rsplit("E", 1)[-1] for c in data["ctrl"]]      # "CTRL" within each experiment: one id per experiment
    ctrl = [f"{e}-{c}" for e, c in zip(data["experiment"], ctrl)]
    V = shared_control_V(data["vi"], data["study"], ctrl, data["n1i"], data["n2i"])
    np.testing.assert_allclose(V, np.array(data["V"]).reshape(k, k), rtol=1e-12, atol=1e-15)


def test_split_shared_controls():
    from livingmeta.stats import split_shared_controls
    assert split_shared_controls([10, 10, 10, 6], ["a", "a", "a", "b"], ["c", "c", "c", ""]) == [4, 3, 3, 6.0]
    assert split_shared_controls([9, 9, 5], ["a", "b", "b"], ["c", "c", "c"]) == [9.0, 5, 4]
    with pytest.raises(ReviewInputError, match="fewer than 2 per comparison"):
        split_shared_controls([5, 5, 5], ["a", "a", "a"], ["c", "c", "c"])


def test_random_structures_converge_to_a_stationary_point():
    """Seeded random nested designs (incl. boundary optima): Fisher scoring/Newton converges, and the
    optimum satisfies the Kuhn-Tucker conditions (score 0 where sigma2 > 0, score <= 0 where sigma2 = 0)."""
    from livingmeta.stats import multilevel as ml
    rng = np.random.default_rng(16)
    for _ in range(60):
        study, exp_, comp = [], [], []
        for s in range(int(rng.integers(2, 12))):
            for e in range(int(rng.integers(1, 3))):
                for c in range(int(rng.integers(1, 4))):
                    study.append(s), exp_.append(str(e)), comp.append(f"{e}{c}")
        k = len(study)
        if k < 4:
            continue
        vi = rng.uniform(0.01, 0.5, k)
        s2 = rng.choice([0.0, 0.01, 0.2], 3)
        y = (rng.normal(0, np.sqrt(s2[0]), max(study) + 1)[study] + rng.normal(0, np.sqrt(s2[2]), k)
             + rng.normal(0, np.sqrt(vi)))
        for method in ("REML", "ML"):
            res = rma_mv(y, vi, study=study, experiment=exp_, comparison=comp, method=method)
            assert res.converged
            keep = [0] + [j for j in range(1, 3) if res.s_nlevels[j] != res.s_nlevels[j - 1]]
            blk = ml._Blocks(np.diag(vi), [ml.nested_levels(study, exp_, comp)[1][j] for j in keep])
            _, score, (info, _), *_ = ml._pieces(res.sigma2[keep], y, np.ones((k, 1)), blk, method == "REML", 0.0)
            scale = np.sqrt(np.diag(info))
            for s_, g, sc in zip(res.sigma2[keep], score, scale):
                if s_ > 0:
                    assert abs(g) <= 1e-6 * sc
                else:
                    assert g <= 1e-6 * sc


def test_redundant_level_is_fixed_at_zero_with_a_warning():
    d = REF["datasets"]["konstantopoulos2011"]["data"]
    res = rma_mv(d["yi"], d["vi"], study=d["study"], experiment=d["comparison"], comparison=d["comparison"])
    ref = REF["datasets"]["konstantopoulos2011"]["fits"]["reml_z"]
    _close(res.sigma2, [ref["sigma2"][0], ref["sigma2"][1], 0.0], 1e-6, what="sigma2")
    assert any("one cluster per experiment" in w for w in res.warnings)
