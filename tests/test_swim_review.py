"""End to end: the second example review (examples/mirna-ivdd/, synthesis without meta-analysis of the
studies a narrative review cites by mechanism) through the whole workflow, and its incremental rebuild: a
new unpooled study re-runs its own study job, the synthesis job and the report, nothing else."""
from __future__ import annotations

import csv
import json
import shutil

import pytest

from tests.workflow.helpers import REPO, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

EXAMPLE = REPO / "examples" / "mirna-ivdd"
GROUPS = ["apoptosis_senescence_proliferation", "ecm_homeostasis", "oxidative_stress", "inflammation",
          "angiogenesis", "pretreatment"]


@pytest.fixture(scope="module")
def swim_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("swim") / "mirna-ivdd"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("results", "reports", ".snakemake"))
    config = work / "config.yaml"
    config.write_text(config.read_text().replace("pdf: true", "pdf: false"))   # fast: no PDF in the test
    snakemake(work, "--configfile", str(config), check=True)
    return work


def results(work):
    return json.loads((work / "reports" / "latest" / "results.json").read_text())


def test_every_study_is_synthesised_by_mechanism(swim_run):
    doc = results(swim_run)
    assert doc["analyses"] == []                      # nothing is pooled
    syn = doc["synthesis"]
    studies = sorted(p.stem for p in (EXAMPLE / "review" / "studies").glob("*.yaml"))
    assert syn["k"] == len(studies) == 35
    assert [g["id"] for g in syn["groups"]] == GROUPS
    assert sorted(s["study"] for g in syn["groups"] for s in g["studies"]) == studies
    pre = next(g for g in syn["groups"] if g["id"] == "pretreatment")
    zhuang = next(s for s in pre["studies"] if s["study"] == "zhuang2021")
    assert zhuang["directions"]["apoptosis"]["direction"] == "harm"   # exosomes of degenerated NPSCs
    assert zhuang["characteristics"]["cargo"] == "let-7b-5p"
    for g in syn["groups"]:
        for s in g["studies"]:
            assert all(c["provenance"] == "text" and c["source"].startswith("narrative review, section")
                       for c in s["directions"].values()), s["study"]
    apo = syn["groups"][0]["votes"]["apoptosis"]
    assert (apo["benefit"], apo["harm"]) == (12, 0)
    assert apo["sign_test_p"] == pytest.approx(0.00048828125000000011)   # R: binom.test(12, 12)$p.value
    assert apo["ci_lb"] == pytest.approx(0.73535153060294889)            # R: binom.test(12, 12)$conf.int[1]


def test_methods_chapter_describes_the_synthesis(swim_run):
    """results.json's Methods text (and so the report's Methods chapter) states the synthesis without
    meta-analysis: grouping, vote counting on direction with the sign test and Clopper-Pearson CI, the effect
    direction plot, SWiM cited."""
    doc = results(swim_run)
    entry = [t for t in doc["methods"]["text"] if t["heading"] == "Synthesis without meta-analysis"]
    assert len(entry) == 1
    text = entry[0]["text"]
    assert "35 studies" in text and f"({len(GROUPS)} groups)" in text and "grouped by mechanism" in text
    for phrase in ("SWiM", "Campbell et al. 2020, BMJ 368:l6890", "vote counting based on the direction of effect",
                   "sign test", "Clopper\u2013Pearson 95% confidence interval", "effect direction plot (Thomson & Thomas 2013)",
                   "never on statistical significance"):
        assert phrase in text, phrase
    html = (swim_run / "reports" / "latest" / "report.html").read_text()
    assert "effect direction plot (Thomson &amp; Thomas 2013)" in html


def test_no_synthesis_no_methods_paragraph():
    from livingmeta.report.methods import add_synthesis_methods

    methods = {"text": [{"heading": "Meta-analysis", "text": "x"}, {"heading": "Small-study effects", "text": "y"},
                        {"heading": "Risk of bias", "text": "z"}]}
    add_synthesis_methods(methods, None)
    add_synthesis_methods(methods, {"k": 0, "groups": []})
    assert len(methods["text"]) == 3
    add_synthesis_methods(methods, {"k": 1, "groups": [{"id": "a"}], "group_label": "Mechanism", "level": 90,
                                    "domains": [{"id": "d", "label": "Apoptosis"}], "characteristics": []})
    assert [t["heading"] for t in methods["text"]] == ["Meta-analysis", "Small-study effects",
                                                       "Synthesis without meta-analysis", "Risk of bias"]
    assert "one study reports" in methods["text"][2]["text"] and "90% confidence" in methods["text"][2]["text"]


def test_report_section_figures_and_data(swim_run):
    latest = swim_run / "reports" / "latest"
    html = (latest / "report.html").read_text()
    assert "<!--pdf-part synthesis-->" in html and "Synthesis without meta-analysis" in html
    assert html.index("<!--pdf-part synthesis-->") < html.index("<!--pdf-part prisma-lsr-->")
    assert "Item 1, grouping" in html and "Clopper-Pearson" in html
    with open(latest / "figures" / "index.csv", newline="") as fh:
        figures = [row["file"] for row in csv.DictReader(fh)]
    assert [f"swim_direction_{g}.svg" for g in GROUPS] == [f for f in figures if f.startswith("swim_direction_")]
    assert "swim_map_in_vivo.svg" in figures
    with open(latest / "data" / "synthesis_evidence.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 35 and {r["group"] for r in rows} == set(GROUPS)
    assert (latest / "data" / "synthesis_votes.csv").is_file() and (latest / "data" / "synthesis_map.csv").is_file()


def test_a_new_unpooled_study_rebuilds_only_its_jobs(swim_run):
    assert planned_jobs(swim_run) == {}
    new = swim_run / "review" / "studies" / "doe2099.yaml"
    new.write_text("study: doe2099\ncitation: {first_author: Doe, year: 2099}\ncharacteristics: {cargo: miR-1}\n"
                   "groups: {mechanism: inflammation}\noutcomes:\n"
                   "  - {outcome: inflammation, direction: no_clear_difference, provenance: illustrative, source: test}\n")
    try:
        assert planned_jobs(swim_run) == {"studies": 1, "synthesis": 1, "report": 1}
    finally:
        new.unlink()
