from pathlib import Path

from livingmeta.plan import analysis_id, scan_review


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_review(root: Path) -> Path:
    write(root / "outcomes.yaml", """
outcomes:
  - {id: dhi, label: Disc height index, higher_is_better: true, timepoints: [4 weeks, 8 weeks]}
  - {id: mri, label: MRI grade, higher_is_better: false, timepoints: [8 weeks]}
""")
    write(root / "studies" / "a2020.yaml", """
study: a2020
outcomes:
  - {outcome: dhi, timepoint: 4 weeks}
  - {outcome: mri, timepoint: 8 weeks}
""")
    write(root / "studies" / "b2021.yaml", "study: b2021\noutcomes:\n  - {outcome: dhi, timepoint: 4 weeks}\n")
    write(root / "studies" / "broken.yaml", "study: [unclosed\n")
    write(root / "studies" / "unknown.yaml", "outcomes:\n  - {outcome: pain, timepoint: 4 weeks}\n")
    write(root / "risk_of_bias" / "a2020.yaml", "study: a2020\n")
    write(root / "searches" / "pubmed" / "2025-06-30.nbib", "PMID- 1\n")
    write(root / "searches" / "embase" / "2025-06-30.ris", "TY  - JOUR\nER  - \n")
    write(root / "searches" / "embase" / "2025-06-30.search.yaml", "query: x\n")
    write(root / "screening" / "title_abstract.csv", "record_id,reviewer,decision\n")
    return root


def test_analysis_id():
    assert analysis_id("dhi", "4 weeks") == "dhi__4_weeks"
    assert analysis_id("Histological grade", "End of study") == "histological_grade__end_of_study"


def test_scan_review_builds_the_job_graph_from_cheap_reads(tmp_path):
    plan = scan_review(make_review(tmp_path / "review"))
    assert [(e.source, e.name, e.ext) for e in plan.exports] == [
        ("embase", "2025-06-30", "ris"), ("pubmed", "2025-06-30", "nbib")]
    assert sorted(plan.studies) == ["a2020", "b2021", "broken", "unknown"]
    assert list(plan.analyses) == ["dhi__4_weeks", "mri__8_weeks"]  # protocol order; dhi 8 weeks has no study
    assert plan.analyses["dhi__4_weeks"].studies == ["a2020", "b2021"]
    assert plan.analyses["mri__8_weeks"].studies == ["a2020"]
    assert plan.analyses["mri__8_weeks"].higher_is_better is False
    assert list(plan.rob_files) == ["a2020"]
    assert [Path(p).name for p in plan.screening_files] == ["title_abstract.csv"]


def test_scan_of_an_empty_folder(tmp_path):
    plan = scan_review(tmp_path)
    assert plan.exports == [] and plan.studies == {} and plan.analyses == {}


def test_an_outcome_overrides_the_review_wide_model(tmp_path):
    (tmp_path / "studies").mkdir()
    (tmp_path / "outcomes.yaml").write_text(
        "outcomes:\n"
        "  - {id: death, label: Death, higher_is_better: false, timepoints: [30 days], measure: or, method: mh}\n"
        "  - {id: stay, label: Stay, higher_is_better: false, timepoints: [discharge], units_harmonised: true}\n",
        encoding="utf-8")
    for sid in ("a", "b"):
        (tmp_path / "studies" / f"{sid}.yaml").write_text(
            "outcomes:\n  - {outcome: death, timepoint: 30 days}\n  - {outcome: stay, timepoint: discharge}\n",
            encoding="utf-8")
    plan = scan_review(tmp_path)
    config = {"measure": "SMD", "method": "REML", "test": "knha", "level": 95}
    death = plan.analyses["death__30_days"].model(config)
    stay = plan.analyses["stay__discharge"].model(config)
    assert (death["measure"], death["method"], death["test"], death["units_harmonised"]) == ("OR", "MH", "knha", False)
    assert (stay["measure"], stay["method"], stay["units_harmonised"]) == ("SMD", "REML", True)
    assert config == {"measure": "SMD", "method": "REML", "test": "knha", "level": 95}   # not modified


def test_several_comparisons_and_the_dependent_choice(tmp_path):
    review = tmp_path / "review"
    write(review / "outcomes.yaml", "outcomes:\n  - {id: dhi, label: DHI, higher_is_better: true, timepoints: [4 weeks],"
                                    " dependent: split}\n  - {id: mri, label: MRI, higher_is_better: false,"
                                    " timepoints: [8 weeks]}\n")
    write(review / "studies" / "liao2022.yaml",
          "study: liao2022\noutcomes:\n  - {outcome: dhi, timepoint: 4 weeks, comparison: a}\n"
          "  - {outcome: dhi, timepoint: 4 weeks, comparison: b}\n  - {outcome: mri, timepoint: 8 weeks}\n")
    plan = scan_review(review)
    dhi, mri = plan.analyses["dhi__4_weeks"], plan.analyses["mri__8_weeks"]
    assert dhi.studies == ["liao2022"] and dhi.several and not mri.several
    assert dhi.model({"dependent": "multilevel"})["dependent"] == "split"
    assert mri.model({"dependent": "multilevel"})["dependent"] == "multilevel"
