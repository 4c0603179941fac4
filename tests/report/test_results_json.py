"""results.json: every required key (names as in docs/architecture.md) with the right type, versions,
timestamps, provenance and the illustrative-data flags."""
from __future__ import annotations

import copy
import re
from datetime import datetime

import pytest

from livingmeta.report import results_json as rj
from tests.report.conftest import ANALYSES, fixture_paths, without_illustrative

NUM = (int, float)


def _num_or_none(x):
    return x is None or (isinstance(x, NUM) and not isinstance(x, bool))


def test_top_level_keys_and_types(results):
    for key in ("review", "version", "generated_at", "software", "methods", "prisma", "studies",
                "risk_of_bias", "analyses", "illustrative_data", "notices"):
        assert key in results, key
    assert isinstance(results["review"]["title"], str) and results["review"]["title"].startswith("Exosome")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(\.\d+)?", results["version"])
    assert datetime.fromisoformat(results["generated_at"].replace("Z", "+00:00")).tzinfo is not None
    assert isinstance(results["illustrative_data"], bool)
    assert isinstance(results["notices"], list)
    assert set(results["software"]) >= {"python", "livingmeta", "snakemake", "numpy", "scipy", "jinja2",
                                        "weasyprint"}


def test_prisma_block(results):
    prisma = results["prisma"]
    for key in rj.REQUIRED_PRISMA_KEYS:
        assert key in prisma, key
    assert prisma["identified"] == {"embase": 164, "pubmed": 212, "web_of_science": 157}
    assert all(isinstance(v, int) for v in prisma["identified"].values())
    assert isinstance(prisma["reports_excluded"], dict) and sum(prisma["reports_excluded"].values()) == 11
    for key in rj.REQUIRED_PRISMA_KEYS:
        if key not in ("identified", "reports_excluded"):
            assert isinstance(prisma[key], int), key
    # the previous version's own flow and the agreement statistics are carried through
    assert prisma["previous"]["total_studies"] == 3
    assert prisma["agreement"]["title_abstract"]["kappa"] == pytest.approx(0.812)


def test_analysis_keys_and_types(results):
    assert [a["analysis"] for a in results["analyses"]] == ANALYSES  # protocol order kept
    for a in results["analyses"]:
        for key in rj.REQUIRED_ANALYSIS_KEYS:
            assert key in a, (a["analysis"], key)
        assert isinstance(a["outcome"], str) and isinstance(a["timepoint"], str)
        assert a["measure"] == "SMD" and a["method"] == "REML" and a["test"] == "knha"
        assert isinstance(a["k"], int) and a["k"] == len(a["studies"])
        for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "I2", "Q", "Q_pval", "pi_lb", "pi_ub"):
            assert _num_or_none(a[key]), (a["analysis"], key)
        for row in a["studies"]:
            assert isinstance(row["study"], str)
            assert isinstance(row["yi"], float) and isinstance(row["vi"], float) and row["vi"] > 0
            assert _num_or_none(row["weight"])
            assert row["provenance"] == "illustrative" and row["file"].startswith("review/studies/")
        for sg in a["subgroups"]:
            assert {"variable", "levels", "Q_between", "Q_between_df", "Q_between_pval"} <= set(sg)
            for level in sg["levels"]:
                assert {"level", "k", "estimate", "ci_lb", "ci_ub"} <= set(level)
                assert isinstance(level["level"], str) and isinstance(level["k"], int)
        for loo in a["leave_one_out"]:
            assert {"omitted", "estimate", "ci_lb", "ci_ub", "tau2", "I2"} <= set(loo)


def test_values_pass_through_unchanged(results, inputs):
    dhi = results["analyses"][0]
    pooled = inputs["pooled"][0]
    for key in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "I2", "Q", "Q_pval", "pi_lb", "pi_ub"):
        assert dhi[key] == pooled[key], key
    assert 0 <= dhi["I2"] <= 100  # a percentage
    assert sum(r["weight"] for r in dhi["studies"]) == pytest.approx(100, abs=0.01)
    assert dhi["pooled"] is True
    assert dhi["stat"]["name"] == "t" and dhi["stat"]["df"] == 3
    assert dhi["stat"]["value"] == pytest.approx(dhi["estimate"] / dhi["se"])
    # the per-study row is joined with the study file's extracted numbers (traceability)
    liao = next(r for r in dhi["studies"] if r["study"] == "liao2021")
    assert (liao["m1i"], liao["sd1i"], liao["n1i"]) == (78.2, 6.1, 6)
    assert liao["label"] == "Liao 2021"


def test_single_study_analysis_is_not_pooled(results):
    mmp13 = results["analyses"][2]
    assert mmp13["k"] == 1 and mmp13["pooled"] is False
    assert mmp13["leave_one_out"] == [] and mmp13["leave_one_out_note"]
    assert mmp13["subgroups"][0]["levels"] == [] and mmp13["subgroups"][0]["analysed"] is False
    assert mmp13["stat"]["name"] == "z"  # metafor switches to z for k = 1
    assert any(n["kind"] == "warning" and n["analyses"] == ["mmp13__12_weeks"] for n in results["notices"])


def test_subgroups_and_loo_are_matched_by_analysis_id(inputs, build):
    shuffled = dict(inputs, subgroups=list(reversed(inputs["subgroups"])),
                    leave_one_out=list(reversed(inputs["leave_one_out"])))
    results = build(shuffled)
    dhi = results["analyses"][0]
    assert dhi["analysis"] == "dhi__4_weeks"
    assert {lv["level"] for lv in dhi["subgroups"][0]["levels"]} == {"ECM-based", "gelatin-based", "natural polymer"}
    assert {loo["omitted"] for loo in dhi["leave_one_out"]} == {"liao2021", "liu2023a", "luo2021", "xing2021"}


def test_illustrative_flags_and_notice(results):
    assert results["illustrative_data"] is True
    assert all(a["illustrative"] for a in results["analyses"])
    notice = next(n for n in results["notices"] if n["kind"] == "illustrative")
    assert notice["text"].startswith("The published review reports pooled results only")
    assert notice["analyses"] == ANALYSES
    assert len(notice["studies"]) == 5


def test_no_illustrative_flags_without_illustrative_numbers(inputs, build):
    results = build(without_illustrative(inputs))
    assert results["illustrative_data"] is False
    assert not any(a["illustrative"] for a in results["analyses"])
    assert not any(n["kind"] == "illustrative" for n in results["notices"])


def test_one_illustrative_study_flags_only_its_analyses(inputs, build):
    data = without_illustrative(inputs)
    # zhan2025 reports histological grade and MMP13 (not DHI)
    for doc in data["pooled"]:
        for row in doc["studies"]:
            if row["study"] == "zhan2025":
                row["provenance"] = "illustrative"
    results = build(data)
    flags = {a["analysis"]: a["illustrative"] for a in results["analyses"]}
    assert flags == {"dhi__4_weeks": False, "histological_grade__end_of_study": True, "mmp13__12_weeks": True}
    assert results["illustrative_data"] is True


def test_version_from_source_date_epoch_and_suffix(inputs, build, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795240800")  # 2026-11-21T06:00:00Z
    reports = tmp_path / "published"
    first = build(inputs, reports_dir=str(reports), when=None)
    assert first["version"] == "2026-11-21"
    assert first["generated_at"] == "2026-11-21T06:00:00Z"
    (reports / "2026-11-21").mkdir(parents=True)
    assert build(inputs, reports_dir=str(reports), when=None)["version"] == "2026-11-21.2"
    (reports / "2026-11-21.2").mkdir()
    assert build(inputs, reports_dir=str(reports), when=None)["version"] == "2026-11-21.3"
    # a version of another day does not count
    (reports / "2026-11-20").mkdir()
    assert build(inputs, reports_dir=str(reports), when=None)["version"] == "2026-11-21.3"


def test_software_versions_are_read_from_metadata():
    versions = rj.software_versions()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", versions["python"])
    assert versions["jinja2"] and versions["numpy"]


def test_methods_follow_config(results, inputs, build):
    text = " ".join(p["text"] for p in results["methods"]["text"])
    assert "Hedges' g with the exact small-sample correction" in text
    assert "restricted maximum likelihood (REML)" in text
    assert "Knapp\u2013Hartung" in text and "prediction intervals" in text
    assert "separately within each subgroup" in text and "leave-one-out" in text
    assert "Cohen's \u03ba = 0.81" in text and "PABAK = 0.95" in text
    assert "SYRCLE" in text and "WeasyPrint 70.0" in text
    config = copy.deepcopy(inputs["config"])
    config["analysis"].update(method="DL", test="z", subgroup_tau2="common", leave_one_out=False,
                              prediction_interval=False)
    other = build(inputs, config=config)
    text2 = " ".join(p["text"] for p in other["methods"]["text"])
    assert "DerSimonian\u2013Laird" in text2 and "normal distribution (z test)" in text2
    assert "common to all subgroups" in text2 and "No leave-one-out" in text2
    assert "prediction interval" not in text2
    assert other["methods"]["method"] == "DL" and other["methods"]["test"] == "z"


def test_agreement_rows_skip_stages_without_double_screening():
    from livingmeta.report.methods import agreement_rows

    rows = agreement_rows({
        "full_text": {"n": 0, "percent_agreement": None, "kappa": None, "pabak": None},
        "title_abstract": {"n": 50, "percent_agreement": 96.0, "kappa": 0.7, "pabak": 0.92},
    })
    assert [r["stage"] for r in rows] == ["title_abstract"]
    assert rows[0]["percent"] == 96.0  # already a percentage: not rescaled
    assert agreement_rows({"x": {"n": 10, "agreement": 0.9}})[0]["percent"] == pytest.approx(90.0)


def test_duplicate_labels_get_letters():
    assert rj.disambiguate_labels({"liu2023a": "Liu 2023", "liu2023b": "Liu 2023", "luo2021": "Luo 2021"}) == {
        "liu2023a": "Liu 2023a", "liu2023b": "Liu 2023b", "luo2021": "Luo 2021"}


def test_search_dates_from_prisma_searches():
    rows = rj.search_dates(None, {"exports": {"pubmed": ["2026-10-15", "2025-01-10"], "embase": ["2026-10-15"]}})
    assert rows == [
        {"source": "embase", "source_name": "Embase", "exports": ["2026-10-15"], "first": "2026-10-15",
         "last": "2026-10-15"},
        {"source": "pubmed", "source_name": "PubMed", "exports": ["2025-01-10", "2026-10-15"],
         "first": "2025-01-10", "last": "2026-10-15"},
    ]


def test_load_and_build_from_files(tmp_path):
    results = rj.load_and_build(**fixture_paths(), config={}, reports_dir=str(tmp_path))
    assert len(results["analyses"]) == 3 and len(results["studies"]) == 5
    assert results["review"]["registration_url"].endswith("CRD420250649970")
    assert results["methods"]["method"] == "REML"  # defaults when the config gives nothing


def test_consistency_notice_when_prisma_and_study_files_disagree(inputs, build):
    assert not any(n["kind"] == "consistency" for n in build(inputs)["notices"])  # 5 = 5
    data = copy.deepcopy(inputs)
    data["prisma"]["total_studies"] = 7
    notice = next(n for n in build(data)["notices"] if n["kind"] == "consistency")
    assert "counts 7 included studies, but the review folder has 5 study files" in notice["text"]


def test_ratio_analyses_carry_scale_and_back_transformed_values():
    import math

    from livingmeta.report.results_json import assemble_analysis

    pooled = {"analysis": "death__30_days", "outcome": "death", "timepoint": "30 days", "measure": "OR",
              "scale": "log", "method": "REML", "test": "z", "level": 95, "k": 2, "estimate": math.log(0.5),
              "se": 0.2, "ci_lb": math.log(0.3), "ci_ub": math.log(0.8), "pi_lb": math.log(0.2),
              "pi_ub": math.log(1.25), "kinds": ["dichotomous"],
              "studies": [{"study": "a", "yi": math.log(0.4), "vi": 0.1, "ci_lb": math.log(0.2), "ci_ub": 0.0,
                           "weight": 50.0, "kind": "dichotomous", "ai": 3, "ci": 7, "n1i": 30, "n2i": 30,
                           "estimable": True},
                          {"study": "b", "yi": None, "vi": None, "ci_lb": None, "ci_ub": None, "weight": 0.0,
                           "kind": "dichotomous", "ai": 0, "ci": 0, "n1i": 10, "n2i": 10, "estimable": False}]}
    loo = {"leave_one_out": [{"omitted": "a", "k": 1, "estimate": math.log(2.0), "ci_lb": 0.0, "ci_ub": math.log(4.0)}]}
    a = assemble_analysis(pooled, None, loo, {}, {})
    assert a["scale"] == "log" and a["kinds"] == ["dichotomous"]
    for key, value in (("estimate_exp", 0.5), ("ci_lb_exp", 0.3), ("ci_ub_exp", 0.8), ("pi_lb_exp", 0.2),
                       ("pi_ub_exp", 1.25)):
        assert a[key] == pytest.approx(value), key
    assert a["estimate"] == pytest.approx(math.log(0.5))            # the model scale stays as it is
    s1, s2 = a["studies"]
    assert s1["yi_exp"] == pytest.approx(0.4) and s1["ci_ub_exp"] == 1.0 and (s1["ai"], s1["ci"]) == (3, 7)
    assert s2["estimable"] is False and s2["yi_exp"] is None
    assert a["leave_one_out"][0]["estimate_exp"] == pytest.approx(2.0)
    raw = assemble_analysis({**pooled, "measure": "MD", "scale": "raw"}, None, None, {}, {})
    assert raw["scale"] == "raw" and "estimate_exp" not in raw


def test_a_version_written_before_data_kinds_does_not_correct_every_study(results):
    import copy

    from livingmeta.living.changes import what_changed
    from livingmeta.report.results_json import _comparable

    old = copy.deepcopy(results)            # the fixture's study documents predate the data kinds
    new = copy.deepcopy(results)
    for study in new["studies"]:
        for effect in study.get("effects") or []:
            effect.update({"scale": "raw", "kind": "continuous", "estimable": True})
    assert what_changed(_comparable(old), _comparable(new))["studies_corrected"] == []
    new["studies"][0]["effects"][0]["m1i"] += 1      # a real correction is still seen
    assert what_changed(_comparable(old), _comparable(new))["studies_corrected"] == [new["studies"][0]["study"]]


def test_records_the_parsers_could_not_read_cleanly_are_notices():
    from livingmeta.report.results_json import RECORD_PROBLEMS_SHOWN, record_notices

    problems = [{"file": "review/searches/embase/2026-01-01.ris", "record": i, "message": f"byte 0x{i:02x} is not UTF-8."}
                for i in range(1, RECORD_PROBLEMS_SHOWN + 3)]
    problems.append({"file": "review/searches/pubmed/2026-01-01.nbib", "record": None, "message": "read as Windows-1252"})
    notices = record_notices(problems)
    assert [n["kind"] for n in notices] == ["records", "records"]
    assert notices[0]["text"].startswith(f"review/searches/embase/2026-01-01.ris: {RECORD_PROBLEMS_SHOWN + 2} problem(s)")
    assert "record 1: byte 0x01 is not UTF-8;" in notices[0]["text"] and notices[0]["text"].endswith("and 2 more.")
    assert notices[1]["text"] == ("review/searches/pubmed/2026-01-01.nbib: 1 problem(s) reading this export: "
                                  "read as Windows-1252.")
    assert record_notices([]) == []
