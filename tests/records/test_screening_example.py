"""The example review's screening data (illustrative demonstration update search) end to end: through
the library, and through the workflow's records branch with Snakemake."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from livingmeta.records import prisma, screening
from livingmeta.records.dedup import build_library
from livingmeta.records.ingest import parse_export

REPO = Path(__file__).resolve().parents[2]
REVIEW = REPO / "review"


@pytest.fixture(scope="module")
def library():
    from livingmeta.records.keys import assign_stable_ids

    parsed = [parse_export(p, p.parent.name) for p in sorted((REVIEW / "searches").glob("*/*.*"))]
    assign_stable_ids(parsed)   # as the deduplicate job does
    return build_library(parsed)


def test_example_search_files_are_illustrative_and_valid(library):
    assert library["identified"] == {"embase": 10, "pubmed": 10}
    assert library["duplicates_removed"] == 3
    for rec in library["records"]:
        assert "ILLUSTRATIVE RECORD" in (rec["abstract"] or ""), rec["record_id"]
        assert rec["doi"].startswith("10.5555/"), rec["record_id"]
        assert rec["pmid"] is None or int(rec["pmid"]) >= 99000000
        assert rec["year"] == 2025
    for path in (REVIEW / "searches").glob("*/*.*"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith(("# ILLUSTRATIVE", "ILLUSTRATIVE")), path
        n = len(re.findall(r"^(PMID- |TY  - )", text, flags=re.M))
        assert n == len(re.findall(r"ILLUSTRATIVE RECORD — not a real publication \(demonstration", text)), path


def test_example_screening_and_prisma(library):
    files = sorted(str(p) for p in (REVIEW / "screening").glob("*.csv") if p.name != "duplicates.csv")
    result = screening.screen(library, files, None, display_root=REPO)
    c = result["counts"]
    assert (c["n_clusters"], c["records_screened"], c["records_excluded"], c["records_awaiting_screening"]) == \
        (17, 12, 7, 5)
    assert (c["reports_sought"], c["reports_not_retrieved"], c["reports_assessed"], c["reports_included"]) == \
        (5, 1, 4, 0)
    assert sum(c["reports_excluded"].values()) == 4
    assert result["included"] == []                          # no 11th study
    assert len([x for x in result["conflicts"] if x["kind"] == "decision" and x["resolved"]]) == 3
    assert c["conflicts"]["title_abstract"] == 1 and len(result["queue"]) == 5

    out = prisma.compute_prisma(library, result, prisma.load_previous(REVIEW / "previous_version.yaml"))
    assert (out["previous_studies"], out["new_studies"], out["total_studies"]) == (10, 0, 10)
    prev = out["previous"]
    assert (prev["identified_total"], prev["duplicates_removed"], prev["records_screened"],
            prev["records_excluded"], prev["reports_assessed"], prev["new_studies"]) == (1844, 508, 1336, 1275, 61, 10)
    assert prev["reports_excluded"] == {prisma.NOT_ITEMISED: 51}
    assert prev["search_date_approximate"] is True
    assert sorted(prev["studies"]) == sorted(p.stem for p in (REVIEW / "studies").glob("*.yaml"))


@pytest.mark.workflow
def test_records_branch_through_snakemake(tmp_path):
    from tests.workflow.helpers import copy_example, snakemake

    work = copy_example(tmp_path / "run")
    for folder in ("studies", "risk_of_bias"):   # the records branch needs none of the study data
        shutil.rmtree(work / "review" / folder, ignore_errors=True)
    target = "results/records/prisma.json"
    snakemake(work, target, check=True)
    out = json.loads((work / target).read_text())
    assert out["records_screened"] == 12 and out["total_studies"] == 10
    assert (work / "results/records/screening_queue.csv").read_text().count("\n") == 6
    assert (work / "results/records/PRISMA2020.csv").read_text().startswith("data,node,box,")

    # a bad decision stops the screening job with one line naming file, row and field
    ta = work / "review/screening/title_abstract.csv"
    ta.write_text(ta.read_text() + "pubmed:2025-06-30:9,RA,perhaps,,,\n")
    proc = snakemake(work, target)
    assert proc.returncode != 0
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.startswith("livingmeta: error:")]
    assert lines and "review/screening/title_abstract.csv: row 34: decision: invalid decision 'perhaps'" in lines[0]
