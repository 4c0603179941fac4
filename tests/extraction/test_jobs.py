"""The studies and rob jobs through Snakemake's command line: outputs, and one-line errors for bad input."""
from __future__ import annotations

import pytest

from livingmeta.jsonio import read_json

from ..workflow.helpers import copy_example, snakemake

pytestmark = pytest.mark.workflow


def test_study_and_rob_jobs_write_their_documents(tmp_path):
    work = copy_example(tmp_path / "w")
    proc = snakemake(work, "results/studies/studies.json", "results/rob/summary.json")
    assert proc.returncode == 0, proc.stderr
    docs = read_json(work / "results" / "studies" / "studies.json")["studies"]
    assert [d["study"] for d in docs] == sorted(p.stem for p in (work / "review" / "studies").glob("*.yaml"))
    doc = next(d for d in docs if d["study"] == "peng2023")
    assert doc["study"] == "peng2023" and doc["file"] == "review/studies/peng2023.yaml" and doc["illustrative"]
    row = next(e for e in doc["effects"] if e["analysis"] == "histological_grade__end_of_study")
    assert row["measure"] == "SMD" and row["yi"] < 0 and row["stated"]["control"].keys() == {"mean", "se", "n"}
    assert row["sd2i"] == pytest.approx(row["stated"]["control"]["se"] * row["n2i"] ** 0.5)
    summary = read_json(work / "results" / "rob" / "summary.json")
    assert len(summary["studies"]) == 10 and summary["summary"]["allocation_concealment"]["low"] == 1


def test_a_bad_study_file_stops_its_job_with_one_line(tmp_path):
    work = copy_example(tmp_path / "w")
    path = work / "review" / "studies" / "liao2021.yaml"
    path.write_text(path.read_text().replace("control: {mean: 68.4, sd: 5.2, n: 5}",
                                             "control: {mean: 68.4, sd: -5.2, n: 5}", 1))
    proc = snakemake(work, "results/studies/studies.json")
    assert proc.returncode != 0
    expected = ("livingmeta: error: review/studies/liao2021.yaml: outcomes[0].control.sd: must be > 0 "
                "(got -5.2) (dhi, 4 weeks)")
    assert expected in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr  # stopped while planning: no job ran
    assert not (work / "results" / "studies" / "studies.json").exists()


def test_an_included_study_without_risk_of_bias_file(tmp_path):
    work = copy_example(tmp_path / "w")
    (work / "review" / "risk_of_bias" / "shi2024.yaml").unlink()
    proc = snakemake(work, "results/rob/summary.json")
    assert proc.returncode != 0
    assert ("livingmeta: error: review/risk_of_bias/shi2024.yaml: (file): no risk-of-bias file for included "
            "study 'shi2024'") in proc.stderr
