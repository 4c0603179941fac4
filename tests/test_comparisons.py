"""livingmeta.comparisons: several comparisons per study in one analysis (multilevel, combine, split)."""
from __future__ import annotations

import pytest

from livingmeta import comparisons
from livingmeta.analyses import leave_one_out_for_analysis, pool_analysis, subgroups_for_analysis
from livingmeta.errors import ReviewInputError
from livingmeta.stats import escalc, rma

MODEL = {"measure": "MD", "method": "REML", "test": "knha", "level": 95, "prediction_interval": True}
META = {"analysis": "dhi__4_weeks", "outcome": "dhi", "timepoint": "4 weeks"}


def row(study, m1, m2, *, comparison=None, group=None, experiment=None, n1=8, n2=9, sd=3.0):
    yi, vi = escalc("MD", m1i=[m1], sd1i=[sd], n1i=[n1], m2i=[m2], sd2i=[sd], n2i=[n2])
    out = {"study": study, "label": study.title(), "kind": "continuous", "yi": float(yi[0]), "vi": float(vi[0]),
           "m1i": m1, "sd1i": sd, "n1i": n1, "m2i": m2, "sd2i": sd, "n2i": n2, "provenance": "text"}
    for key, value in (("comparison", comparison), ("control_group", group), ("experiment", experiment)):
        if value is not None:
            out[key] = value
    return out


def ordinary():
    return [row("a2020", 12, 9), row("b2021", 15, 10), row("c2019", 10, 9.5), row("d2018", 18, 11)]


def two_doses():
    return [row("liao2022", 14, 10, comparison="10 ug", group="pbs"),
            row("liao2022", 19, 10, comparison="50 ug", group="pbs")]


def test_without_several_comparisons_nothing_changes():
    rows = ordinary()
    doc = pool_analysis(rows, META, MODEL)
    direct = rma([r["yi"] for r in rows], [r["vi"] for r in rows], method="REML", test="knha").to_dict()
    assert doc["estimate"] == pytest.approx(direct["estimate"], rel=1e-12)
    assert "dependent" not in doc and "structure" not in doc and "sigma2" not in doc


def test_combine_uses_the_handbook_formula():
    rows = comparisons.combine(two_doses(), {**MODEL})
    assert len(rows) == 1
    r = rows[0]
    assert r["n1i"] == 16 and r["m1i"] == pytest.approx(16.5) and r["n2i"] == 9   # shared control once
    sd = (((7 * 9 + 7 * 9 + 8 * 8 / 16 * 25) / 15) ** 0.5)
    assert r["sd1i"] == pytest.approx(sd)
    assert r["yi"] == pytest.approx(6.5) and "comparison" not in r


def test_split_divides_the_shared_control():
    rows = comparisons.split(two_doses(), MODEL)
    assert [r["n2i"] for r in rows] == [5, 4]
    assert rows[0]["vi"] == pytest.approx(9 / 8 + 9 / 5)
    assert comparisons.split(rows, MODEL) == rows     # idempotent


def test_split_refuses_a_control_too_small():
    rows = [row("x", 14, 10, comparison=c, group="g", n2=5) for c in "abc"]
    with pytest.raises(ReviewInputError, match="fewer than 2 per comparison"):
        comparisons.split(rows, MODEL)


def test_multilevel_with_one_study_combines_with_a_warning():
    doc = pool_analysis(two_doses(), META, {**MODEL, "dependent": "multilevel"})
    assert doc["k"] == 1 and doc["dependent"] == "combine" and any("single study" in w for w in doc["warnings"])


def test_precomputed_estimates_cannot_be_combined():
    rows = [{**r, "kind": "generic"} for r in two_doses()]
    with pytest.raises(ReviewInputError, match="cannot be combined"):
        comparisons.combine(rows, MODEL)


def test_multilevel_pooling_leave_one_out_and_subgroups():
    rows = sorted(ordinary() + two_doses(), key=lambda r: r["study"])
    doc = pool_analysis(rows, META, {**MODEL, "dependent": "multilevel"})
    assert doc["model"] == "multilevel" and doc["k"] == 6 and doc["sigma2_levels"] == ["study", "comparison"]
    assert sum(s["weight"] for s in doc["studies"]) == pytest.approx(100)
    assert doc["small_study"]["assessed"] is False
    loo = leave_one_out_for_analysis(rows, META, MODEL)
    assert [i["omitted"] for i in loo["leave_one_out"]] == ["a2020", "b2021", "c2019", "d2018", "liao2022"]
    assert loo["leave_one_out"][-1]["k"] == 4
    groups = {"a2020": {"g": "x"}, "b2021": {"g": "y"}, "c2019": {"g": "x"}, "d2018": {"g": "y"}, "liao2022": {"g": "x"}}
    sub = subgroups_for_analysis(rows, groups, META, MODEL, [{"variable": "g"}], "separate")
    sg = sub["subgroups"][0]
    assert sub["tau2_model"] == "multilevel" and [lev["k"] for lev in sg["levels"]] == [4, 2]
    assert sg["levels"][0]["studies"] == ["a2020", "c2019", "liao2022"] and sg["Q_between_test"] == "F"


def test_rob_sensitivity_keeps_or_drops_whole_studies():
    from livingmeta.analyses import rob_sensitivity

    rows = sorted(ordinary() + two_doses(), key=lambda r: r["study"])
    rob = {"overall": {"a2020": {"judgement": "high"}}}
    out = rob_sensitivity(rows, {**MODEL, "dependent": "multilevel"}, rob, "exclude_high")
    assert out["excluded"] == ["a2020"] and out["kept"] == ["b2021", "c2019", "d2018", "liao2022"]
    kept = [r for r in rows if r["study"] != "a2020"]
    direct = pool_analysis(kept, META, {**MODEL, "dependent": "multilevel"})
    assert out["analysed"] and out["k"] == 5 and out["estimate"] == pytest.approx(direct["estimate"], rel=1e-12)
    out = rob_sensitivity(two_doses() + [row("z", 1, 0)], MODEL, {"overall": {"z": {"judgement": "high"}}},
                          "exclude_high")
    assert not out["analysed"] and out["note"] == "1 study left: not pooled"
