"""pool_analysis's small_study block (PRISMA 2020 items 14 and 21): Egger's and Begg's tests, trim-and-fill
and funnel data from livingmeta.stats only for analyses with at least analysis.small_study_min_k studies."""
from __future__ import annotations

import json

import pytest

from livingmeta.analyses import pool_analysis
from livingmeta.stats import funnel_data, ranktest, regtest, trimfill

MODEL = {"measure": "SMD", "method": "REML", "test": "knha", "level": 95, "prediction_interval": True}
META = {"analysis": "dhi__4_weeks", "outcome": "dhi", "timepoint": "4 weeks"}
# 12 studies, small ones with larger effects (an asymmetric funnel)
YI = [2.9, 2.4, 1.1, 1.9, 0.6, 1.5, 0.8, 2.2, 0.4, 1.0, 0.7, 1.3]
N1 = [5, 6, 14, 6, 20, 8, 15, 5, 24, 10, 18, 9]
N2 = [5, 6, 12, 7, 20, 8, 15, 6, 22, 10, 18, 9]


def _rows(k: int, *, sizes: bool = True) -> list[dict]:
    rows = []
    for i in range(k):
        n1, n2, g = N1[i], N2[i], YI[i]
        rows.append({"study": f"s{i:02d}", "label": f"Study {i}", "yi": g,
                     "vi": (n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)),
                     "n1i": n1 if sizes else None, "n2i": n2 if sizes else None, "provenance": "text"})
    return rows


def _symmetric_rows() -> list[dict]:
    """12 studies in mirrored pairs around 1.0, each pair with one variance (a symmetric funnel)."""
    rows = []
    for i, (d, n) in enumerate(zip((0.1, 0.3, 0.5, 0.2, 0.6, 0.4), (6, 8, 10, 14, 18, 24))):
        for sign in (1, -1):
            rows.append({"study": f"m{len(rows):02d}", "label": f"Mirror {len(rows)}", "yi": 1 + sign * d,
                         "vi": 2 / n + 0.05, "n1i": None, "n2i": None, "provenance": "text"})
    return rows


def _direct(rows: list[dict], **kw) -> dict:
    return regtest([r["yi"] for r in rows], [r["vi"] for r in rows], method="REML", test="knha", level=95, **kw)


def test_assessed_with_ten_or_more_studies_matches_regtest():
    rows = _rows(12)
    ss = pool_analysis(rows, META, MODEL)["small_study"]
    assert ss["assessed"] is True and ss["min_k"] == 10
    se = _direct(rows, predictor="sei")
    sq = _direct(rows, predictor="sqrtninv", ni=[r["n1i"] + r["n2i"] for r in rows])
    assert ss["egger_se"]["predictor"] == "sei" and ss["egger_sqrtninv"]["predictor"] == "sqrtninv"
    assert ss["egger_se"]["pval"] == pytest.approx(se["pval"], rel=1e-12)
    assert ss["egger_se"]["zval"] == pytest.approx(se["zval"], rel=1e-12)
    assert ss["egger_se"]["dfs"] == 10  # Knapp-Hartung: a t test on k - 2 df
    assert ss["egger_sqrtninv"]["pval"] == pytest.approx(sq["pval"], rel=1e-12)
    assert ss["egger_sqrtninv"]["pval"] != pytest.approx(ss["egger_se"]["pval"])  # really the other predictor
    assert ss["egger_se"]["pval"] < 0.05  # the asymmetry built into the example is detected
    funnel = ss["funnel"]
    assert funnel["estimate"] == pytest.approx(pool_analysis(rows, META, MODEL)["estimate"], rel=1e-10)
    assert [p["study"] for p in funnel["studies"]] == [r["study"] for r in rows]
    assert funnel["studies"][0]["ni"] == 10
    json.dumps(ss, allow_nan=False)  # goes into pooled.json as it is


def test_model_settings_are_passed_on():
    rows = _rows(12)
    ss = pool_analysis(rows, META, {**MODEL, "method": "DL", "test": "z"})["small_study"]
    direct = regtest([r["yi"] for r in rows], [r["vi"] for r in rows], method="DL", test="z")
    assert ss["egger_se"]["pval"] == pytest.approx(direct["pval"], rel=1e-12)
    assert ss["egger_se"]["dfs"] is None  # z test


def test_sqrtninv_only_for_smd_with_all_group_sizes():
    rows = _rows(12)
    assert "egger_sqrtninv" not in pool_analysis(rows, META, {**MODEL, "measure": "MD"})["small_study"]
    missing = _rows(12)
    missing[3]["n2i"] = None
    ss = pool_analysis(missing, META, MODEL)["small_study"]
    assert ss["assessed"] is True and "egger_sqrtninv" not in ss and "egger_se" in ss


def test_not_assessed_with_fewer_than_ten_studies():
    ss = pool_analysis(_rows(9), META, MODEL)["small_study"]
    assert ss == {"assessed": False, "min_k": 10, "reason": "fewer than 10 studies (k = 9)"}


def test_min_k_option_is_honoured():
    rows = _rows(5)
    ss = pool_analysis(rows, META, {**MODEL, "small_study_min_k": 3})["small_study"]
    assert ss["assessed"] is True and ss["min_k"] == 3
    assert ss["egger_se"]["pval"] == pytest.approx(_direct(rows, predictor="sei")["pval"], rel=1e-12)
    expected = funnel_data([r["yi"] for r in rows], [r["vi"] for r in rows], method="REML", test="knha")
    assert [b["ub"] for b in ss["funnel"]["region"]] == pytest.approx([b["ub"] for b in expected["region"]])
    ss = pool_analysis(_rows(12), META, {**MODEL, "small_study_min_k": 13})["small_study"]
    assert ss["assessed"] is False and ss["reason"] == "fewer than 13 studies (k = 12)"


def _yv(rows: list[dict]) -> tuple[list[float], list[float]]:
    return [r["yi"] for r in rows], [r["vi"] for r in rows]


def test_rank_test_and_trim_and_fill_match_the_engine_on_an_asymmetric_funnel():
    rows = _rows(12)
    ss = pool_analysis(rows, META, MODEL)["small_study"]
    yi, vi = _yv(rows)
    rank = ranktest(yi, vi, method="REML", test="knha")
    assert ss["rank_test"] == pytest.approx(rank, rel=1e-12)
    assert ss["rank_test"]["k"] == 12 and ss["rank_test"]["pval"] < 0.05
    tf, direct = ss["trim_and_fill"], trimfill(yi, vi, estimator="L0", method="REML", test="knha", level=95)
    assert direct["k0"] > 0 and direct["side"] == "left"  # small studies with large effects: missing on the left
    for key in ("estimator", "side", "k0", "k", "test"):
        assert tf[key] == direct[key], key
    assert tf["estimator"] == "L0" and tf["k"] == 12 + tf["k0"] and tf["test"] == "z"  # metafor 3.8-1's refit
    for key in ("se_k0", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2"):
        assert tf[key] == pytest.approx(direct[key], rel=1e-12), key
    assert tf["estimate"] < pool_analysis(rows, META, MODEL)["estimate"]  # filling on the left pulls it down
    filled = [(y, v) for y, v, f in zip(direct["yi"], direct["vi"], direct["fill"]) if f]
    assert len(tf["imputed"]) == tf["k0"] == len(filled)
    assert [p["yi"] for p in tf["imputed"]] == pytest.approx([y for y, _ in filled], rel=1e-12)
    assert [p["sei"] for p in tf["imputed"]] == pytest.approx([v ** 0.5 for _, v in filled], rel=1e-12)
    assert tf["warnings"] == []
    json.dumps(ss, allow_nan=False)


def test_trim_and_fill_imputes_nothing_on_a_symmetric_funnel():
    rows = _symmetric_rows()
    pooled = pool_analysis(rows, META, {**MODEL, "measure": "MD"})
    ss = pooled["small_study"]
    yi, vi = _yv(rows)
    assert ss["rank_test"] == pytest.approx(ranktest(yi, vi), rel=1e-12)
    tf, direct = ss["trim_and_fill"], trimfill(yi, vi, estimator="L0", method="REML", test="knha", level=95)
    assert tf["k0"] == direct["k0"] == 0 and tf["imputed"] == [] and tf["k"] == 12
    # nothing imputed: the original model, Knapp-Hartung CI included
    assert tf["test"] == "knha"
    for key in ("estimate", "ci_lb", "ci_ub"):
        assert tf[key] == pytest.approx(pooled[key], rel=1e-12) and tf[key] == pytest.approx(direct[key], rel=1e-12)


def test_trim_and_fill_uses_the_analysis_method_and_level():
    rows = _rows(12)
    ss = pool_analysis(rows, META, {**MODEL, "method": "DL", "test": "z", "level": 90})["small_study"]
    direct = trimfill(*_yv(rows), estimator="L0", method="DL", test="z", level=90)
    assert ss["trim_and_fill"]["ci_lb"] == pytest.approx(direct["ci_lb"], rel=1e-12)
    assert ss["trim_and_fill"]["tau2"] == pytest.approx(direct["tau2"], rel=1e-12)
    reml = trimfill(*_yv(rows), estimator="L0", method="REML", test="z", level=90)
    assert direct["ci_lb"] != pytest.approx(reml["ci_lb"])  # really another model
