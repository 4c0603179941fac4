"""End to end: the data-kinds test review (tests/fixtures/kinds_review/) through the whole workflow.

One outcome per data kind and pooling method, from published data sets (R metadat): events/totals pooled as
risk ratios with REML + Knapp-Hartung (dat.bcg, Colditz et al. 1994), by Peto's method and by
Mantel-Haenszel (dat.yusuf1985, Yusuf et al. 1985, table 6, with a trial without deaths), means/SDs as mean
differences (dat.normand1999), and hazard ratios as a paper reports them, with SE or 95% CI (dat.riley2003,
Riley et al. 2003).  Every pooled number is compared with metafor 3.8-1 (validation/metafor/kinds_review.json,
written by validation/metafor/make_reference.R beside the R call of each block).
"""
from __future__ import annotations

import csv
import json
import math
import shutil

import pytest

from tests.stats.metafor_cases import RTOL, deviation
from tests.workflow.helpers import REPO, snakemake

pytestmark = pytest.mark.workflow

FIXTURE = REPO / "tests" / "fixtures" / "kinds_review"
REFERENCE = REPO / "validation" / "metafor" / "kinds_review.json"
KEYS = ("k", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "I2", "Q", "Q_pval", "pi_lb", "pi_ub",
        "estimate_exp", "ci_lb_exp", "ci_ub_exp", "pi_lb_exp", "pi_ub_exp")


@pytest.fixture(scope="module")
def kinds_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("kinds") / "review"
    shutil.copytree(FIXTURE, work)
    for folder in ("searches", "screening"):
        (work / folder).mkdir(exist_ok=True)
    snakemake(work, "--configfile", str(work / "config.yaml"), check=True)
    return work


def reference():
    return json.loads(REFERENCE.read_text())["outcomes"]


def test_every_kind_pools_as_metafor(kinds_run):
    results = json.loads((kinds_run / "reports" / "latest" / "results.json").read_text())
    analyses = {a["outcome"]: a for a in results["analyses"]}
    assert set(analyses) == set(reference())
    for outcome, ref in reference().items():
        a = analyses[outcome]
        pooled = json.loads((kinds_run / "results" / "analyses" / a["analysis"] / "pooled.json").read_text())
        for key in KEYS:
            if key in ref:
                assert deviation(pooled.get(key), ref[key]) <= RTOL, (outcome, key, pooled.get(key), ref[key])
                assert deviation(a.get(key), ref[key]) <= RTOL, (outcome, "results.json", key)
        weights = [s["weight"] for s in pooled["studies"] if s["estimable"] or pooled["method"] in ("MH", "PETO")]
        ref_w = ref["weights"] if isinstance(ref["weights"], list) else [ref["weights"]]
        got, want = sorted(w for w in weights if w), sorted(w for w in ref_w if w)   # studies in id order here
        assert len(got) == len(want) and all(deviation(x, y) <= RTOL for x, y in zip(got, want)), outcome
    scales = {o: (analyses[o]["measure"], analyses[o]["scale"]) for o in analyses}
    assert scales == {"tb": ("RR", "log"), "mortality_peto": ("PETO", "log"), "mortality_mh": ("OR", "log"),
                      "los": ("MD", "raw"), "os": ("HR", "log")}
    assert "estimate_exp" not in analyses["los"] and analyses["mortality_mh"]["method"] == "MH"


def test_the_trial_without_deaths_is_shown_not_estimable(kinds_run):
    results = json.loads((kinds_run / "reports" / "latest" / "results.json").read_text())
    a = next(a for a in results["analyses"] if a["outcome"] == "mortality_peto")
    pitt = next(s for s in a["studies"] if s["study"] == "yusuf_pitt")
    assert pitt["estimable"] is False and pitt["yi"] is None and (pitt["ai"], pitt["ci"]) == (0, 0)
    figure = (kinds_run / "reports" / "latest" / "figures" / f"forest_{a['analysis']}.svg").read_text()
    assert "not estimable" in figure and "Pitt 1985" in figure and "0/9" in figure
    assert ">1</text>" in figure and "Peto odds ratio (log scale)" in figure   # ratio axis through 1


def test_data_csv_columns_follow_the_data_kind(kinds_run):
    data = kinds_run / "reports" / "latest" / "data"

    def header(name):
        with open(data / f"{name}__end_of_study.csv", newline="") as fh:
            return next(csv.reader(fh))

    assert header("tb")[3:7] == ["ai", "n1i", "ci", "n2i"] and "yi_exp" in header("tb")
    assert header("los")[3:9] == ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"] and "yi_exp" not in header("los")
    assert header("os")[3:8] == ["estimate", "ci_lb_reported", "ci_ub_reported", "se_reported", "reported_scale"]
    with open(data / "os__end_of_study.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[0]["yi_exp"]) == pytest.approx(float(rows[0]["estimate"]))
    assert math.exp(float(rows[0]["yi"])) == pytest.approx(float(rows[0]["estimate"]))


def test_subgroups_of_a_ratio_measure_as_metafor(kinds_run):
    ref = reference()["tb"]["subgroups"]["levels"]
    results = json.loads((kinds_run / "reports" / "latest" / "results.json").read_text())
    a = next(a for a in results["analyses"] if a["outcome"] == "tb")
    sg = next(s for s in a["subgroups"] if s["variable"] == "allocation")
    assert [lev["level"] for lev in sg["levels"]] == [r["level"] for r in ref]
    for ours, theirs in zip(sg["levels"], ref):
        for key in ("estimate", "ci_lb", "ci_ub", "estimate_exp", "ci_lb_exp", "ci_ub_exp"):
            assert deviation(ours[key], theirs[key]) <= RTOL, (ours["level"], key)
    figure = (kinds_run / "reports" / "latest" / "figures" / f"subgroups_{a['analysis']}_allocation.svg").read_text()
    assert "Risk ratio (log scale)" in figure and ">1</text>" in figure


def test_clinical_review_with_rob2_reads_as_clinical(kinds_run):
    """A clinical review (review.yaml `type: clinical`) assessed with RoB 2: no generated "animal" anywhere
    in its report, RoB 2's overall judgements and figures, and GRADE with absolute effects for risks."""
    import re

    results = json.loads((kinds_run / "results" / "report" / "results.json").read_text())
    page = (kinds_run / "results" / "report" / "report.html").read_text(encoding="utf-8")
    assert results["review"]["type"] == "clinical" and results["review"]["unit_of_analysis"] == "participants"
    assert not re.search(r"animal", page, flags=re.I)
    assert "participants in intervention arms" in page
    rob = results["risk_of_bias"]
    assert rob["tool"] == "RoB 2" and rob["overall_summary"]["high"] > 0 and rob["overall_summary"]["low"] > 0
    assert 'id="fig-rob-traffic"' in page and "Some concerns" in page
    tb = next(a for a in results["analyses"] if a["outcome"] == "tb")
    c = tb["certainty"]
    assert c["absolute"]["control_per_1000"] > 0 and c["absolute"]["difference_per_1000"] < 0  # BCG prevents TB
    assert c["domains"]["risk_of_bias"]["basis"]["high_share"] > 0
    assert 'id="summary-of-findings"' in page
