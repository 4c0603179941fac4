"""End to end: several comparisons per study (tests/fixtures/multiarm_review/) through the whole workflow.

Two doses against one shared control (liao2022), two independent experiments, one with two doses sharing a
control (xu2021), and ordinary studies; the same data pooled by the multilevel model (outcomes `score`, SMD,
and `healed`, OR), with arms combined (`score_combine`), with the shared control's n split (`score_split`) and
by Mantel-Haenszel (`healed_mh`, comparisons combined with a warning).  Every pooled number is compared with
metafor 3.8-1 (validation/metafor/multiarm_review.json, written by
validation/metafor/make_multiarm_review_reference.R beside the R calls), and the multilevel analyses also with a
direct ``livingmeta.stats.rma_mv`` call on the rows of pooled.json.
"""
from __future__ import annotations

import json
import shutil

import pytest

from livingmeta.stats import rma_mv
from livingmeta.stats.multilevel import shared_control_V
from tests.stats.metafor_cases import deviation
from tests.workflow.helpers import REPO, snakemake

pytestmark = pytest.mark.workflow

FIXTURE = REPO / "tests" / "fixtures" / "multiarm_review"
REFERENCE = json.loads((REPO / "validation" / "metafor" / "multiarm_review.json").read_text())
# metafor's nlminb stops short of the REML optimum on flat likelihoods (up to ~6e-5 relative in sigma2,
# docs/pool.md); the pooled numbers agree within 1e-5 relative, or 1e-5 absolute near 0
RTOL = 1e-5


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("multiarm") / "review"
    shutil.copytree(FIXTURE, work)
    for folder in ("searches", "screening"):
        (work / folder).mkdir(exist_ok=True)
    snakemake(work, "--configfile", str(work / "config.yaml"), check=True)
    return work


def pooled(run, analysis):
    return json.loads((run / "results" / "analyses" / analysis / "pooled.json").read_text())


def results(run):
    return json.loads((run / "reports" / "latest" / "results.json").read_text())


def close(ours, theirs, what):
    assert deviation(ours, theirs) <= RTOL or abs(ours - theirs) <= RTOL, (what, ours, theirs)


@pytest.mark.parametrize("outcome, analysis", [("score", "score__4_weeks"), ("healed", "healed__end_of_study")])
def test_multilevel_as_metafor_and_rma_mv(run, outcome, analysis):
    p = pooled(run, analysis)
    ref = REFERENCE[outcome]
    assert p["dependent"] == "multilevel" and p["model"] == "multilevel"
    assert p["sigma2_levels"] == ["study", "experiment", "comparison"] and p["k"] == 8
    assert p["structure"]["studies"] == 5 and p["structure"]["shared_controls"] == ["liao2022/pbs", "xu2021/c1"]
    assert (p["structure"]["n1i"], p["structure"]["n2i"]) == ((57, 44) if outcome == "score" else (64, 49))
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "pi_lb", "pi_ub", "ddf"):
        close(p[key], ref[key], key)
    close(p["Q"], ref["QE"], "QE")
    close(p["tau2"], sum(ref["sigma2"]), "tau2 = sum of sigma2")
    for ours, theirs in zip([s["weight"] for s in p["studies"]], ref["weights"]):
        close(ours, theirs, "weights")
    # the same rows through rma_mv directly
    rows = p["studies"]
    V = shared_control_V([r["vi"] for r in rows], [r["study"] for r in rows], [r.get("control_group") for r in rows],
                         [r["n1i"] for r in rows], [r["n2i"] for r in rows])
    direct = rma_mv([r["yi"] for r in rows], V, study=[r["study"] for r in rows],
                    experiment=[r.get("experiment") or "" for r in rows],
                    comparison=[r.get("comparison") or str(i) for i, r in enumerate(rows)],
                    test="t", dfs="contain").to_dict()
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "pi_lb", "pi_ub"):
        assert p[key] == pytest.approx(direct[key], rel=1e-12), key
    assert p["sigma2"] == pytest.approx(direct["sigma2"], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("outcome, analysis", [("score", "score__4_weeks"), ("healed", "healed__end_of_study")])
def test_robust_cr2_as_clubsandwich(run, outcome, analysis):
    """analysis.robust (config): the CR2 test at the study level with Satterthwaite df, against metafor
    robust(fit, cluster = study, clubSandwich = TRUE) and clubSandwich coef_test / conf_int (vcov = "CR2");
    within RTOL of the workflow's fit (its REML optimum differs slightly from nlminb's), and within 1e-6 with
    the variance components fixed at metafor's estimates (the same fit: only the sandwich is compared)."""
    from livingmeta.stats.robust import robust_cr2

    p = pooled(run, analysis)
    ref = REFERENCE[outcome]["robust"]
    rob = p["robust"]
    assert (rob["vcov_type"], rob["df_type"], rob["n_clusters"], rob["cluster"]) == ("CR2", "Satterthwaite", 5, "study")
    assert ref["se"] == pytest.approx(ref["se_clubSandwich"], rel=1e-12)   # metafor and clubSandwich agree
    assert ref["df"] == pytest.approx(ref["df_clubSandwich"], rel=1e-12)
    for key in ("se", "tval", "df", "pval", "ci_lb", "ci_ub"):
        close(rob[key], ref[key], key)
    rows = p["studies"]
    V = shared_control_V([r["vi"] for r in rows], [r["study"] for r in rows], [r.get("control_group") for r in rows],
                         [r["n1i"] for r in rows], [r["n2i"] for r in rows])
    fixed = rma_mv([r["yi"] for r in rows], V, study=[r["study"] for r in rows],
                   experiment=[r.get("experiment") or "" for r in rows],
                   comparison=[r.get("comparison") or str(i) for i, r in enumerate(rows)],
                   test="t", dfs="contain", sigma2=ref["sigma2"])
    cr2 = robust_cr2(fixed)
    for key in ("se", "tval", "df", "pval", "ci_lb", "ci_ub"):
        assert cr2[key][0] == pytest.approx(ref[key], rel=1e-9), key
    # results.json carries it, the report's sentence shows it
    res = next(a for a in results(run)["analyses"] if a["analysis"] == analysis)
    assert res["robust"] == rob
    html = (run / "reports" / "latest" / "report.html").read_text()
    assert html.count('class="robust"') == 2
    meta = next(t["text"] for t in results(run)["methods"]["text"] if t["heading"] == "Meta-analysis")
    assert "cluster-robust" in meta and "CR2" in meta and "Satterthwaite" in meta


def test_combine_and_split_as_metafor(run):
    for outcome, analysis, k in (("score_combine", "score_combine__4_weeks", 5), ("score_split", "score_split__4_weeks", 8)):
        p = pooled(run, analysis)
        ref = REFERENCE[outcome]
        assert p["dependent"] == outcome.split("_")[1] and p["k"] == k == ref["k"]
        for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "I2", "Q"):
            close(p[key], ref[key], (outcome, key))
    combined = {s["study"]: s for s in pooled(run, "score_combine__4_weeks")["studies"]}
    assert combined["liao2022"]["combined_from"] == ["10 µg", "50 µg"] and combined["liao2022"]["n2i"] == 9
    assert combined["xu2021"]["n1i"] == 20 and combined["xu2021"]["n2i"] == 14   # shared control counted once
    split = [s for s in pooled(run, "score_split__4_weeks")["studies"] if s["study"] == "liao2022"]
    assert [s["n2i"] for s in split] == [5, 4] and all(s["n2i_before_split"] == 9 for s in split)


def test_mantel_haenszel_combines_with_a_warning(run):
    p = pooled(run, "healed_mh__end_of_study")
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval"):
        close(p[key], REFERENCE["healed_mh"][key], key)
    assert p["k"] == 5 and p["dependent"] == "combine"
    assert any("combined" in w for w in p["warnings"])


def test_multilevel_subgroups_and_leave_one_study_out(run):
    sub = json.loads((run / "results" / "analyses" / "score__4_weeks" / "subgroups.json").read_text())
    sg = sub["subgroups"][0]
    ref = REFERENCE["score"]["subgroups"]
    assert sub["tau2_model"] == "multilevel" and sg["Q_between_test"] == "F"
    close(sg["Q_between"], ref["QM"], "QM")
    close(sg["Q_between_pval"], ref["QM_pval"], "QM p")
    assert [sg["Q_between_df"], sg["Q_between_df2"]] == ref["QM_df"]
    loo = json.loads((run / "results" / "analyses" / "score__4_weeks" / "leave_one_out.json").read_text())
    omitted = {item["omitted"]: item for item in loo["leave_one_out"]}
    assert set(omitted) == {"chen2020", "liao2022", "wang2019", "xu2021", "zhao2018"}
    assert omitted["xu2021"]["k"] == 5 and omitted["chen2020"]["k"] == 7    # a whole study left out


def test_report_rows_per_comparison(run):
    a = next(a for a in results(run)["analyses"] if a["analysis"] == "score__4_weeks")
    labels = [s["label"] for s in a["studies"]]
    assert "Liao 2022 \u2014 10 \u00b5g" in labels and "Xu 2021 \u2014 E2" in labels and "Chen 2020" in labels
    assert a["sigma2_levels"] == ["study", "experiment", "comparison"] and a["dependent"] == "multilevel"
    assert a["stat"]["name"] == "t" and a["stat"]["df"] == 4
    methods = next(t["text"] for t in results(run)["methods"]["text"] if t["heading"] == "Meta-analysis")
    assert "three-level random-effects model" in methods and "Cochrane Handbook 23.3.4" in methods
    # GRADE's information size counts a shared control once: 57 treated + 44 controls
    assert "101 subjects" in a["certainty"]["domains"]["imprecision"]["proposed_reason"]
    liao = next(s for s in a["studies"] if s["label"].endswith("50 \u00b5g"))
    assert liao["control_group"] == "pbs" and liao["m1i"] == 19.0     # the comparison's own arm data
    figure = (run / "reports" / "latest" / "figures" / "forest_score__4_weeks.svg").read_text()
    assert "Liao 2022 \u2014 50 \u00b5g" in figure and "Multilevel model: 8 comparisons in 5 studies" in figure
    assert "\u03c3\u00b2 study" in figure


def test_data_csv_has_the_structure(run):
    import csv

    with open(run / "reports" / "latest" / "data" / "score__4_weeks.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["comparison"] for r in rows][:3] == ["", "10 \u00b5g", "50 \u00b5g"]
    assert rows[1]["control_group"] == "pbs" and rows[4]["experiment"] == "E1"
    with open(run / "reports" / "latest" / "data" / "score_combine__4_weeks.csv", newline="") as fh:
        xu = next(r for r in csv.DictReader(fh) if r["study"] == "xu2021")
    assert float(xu["n1i"]) == 20 and float(xu["m1i"]) == pytest.approx((7 * 12 + 7 * 13.5 + 6 * 9) / 20)


def test_outcome_robust_overrides_config(tmp_path):
    """An outcome's `robust:` (outcomes.yaml) overrides config's analysis.robust; a non-boolean is refused."""
    import yaml

    from livingmeta.errors import ReviewInputError
    from livingmeta.extraction.outcomes import parse_outcomes
    from livingmeta.plan import scan_review

    work = tmp_path / "review"
    shutil.copytree(FIXTURE, work)
    data = yaml.safe_load((work / "outcomes.yaml").read_text())
    for o in data["outcomes"]:
        if o["id"] == "healed":
            o["robust"] = False
    (work / "outcomes.yaml").write_text(yaml.safe_dump(data))
    plan = scan_review(work)
    config = {"measure": "SMD", "method": "REML", "test": "knha", "level": 95, "robust": True}
    assert plan.analyses["healed__end_of_study"].model(config)["robust"] is False
    assert plan.analyses["score__4_weeks"].model(config)["robust"] is True
    assert parse_outcomes(data).outcomes["healed"].robust is False
    data["outcomes"][0]["robust"] = "yes"
    with pytest.raises(ReviewInputError, match="robust"):
        parse_outcomes(data)
