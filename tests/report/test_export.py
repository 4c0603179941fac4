"""export/: RevMan Web data-package CSVs (read back by livingmeta's own RevMan importer), a Covidence-style
extraction CSV and the PRISMA 2020 counts."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest

from livingmeta.interchange.revman_web import read_web
from livingmeta.report import export


def test_revman_export_reads_back_as_the_same_data(results, tmp_path):
    files = export.export_files(results)
    package = tmp_path / "review-data.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("analysis-data/x-data-rows.csv", "\ufeff" + files["revman-data-rows.csv"])
        zf.writestr("analysis-data/x-overall-estimates-and-settings.csv",
                    "\ufeff" + files["revman-overall-estimates-and-settings.csv"])
    review = read_web(str(package))
    assert len(review.outcomes) == len(results["analyses"])
    for outcome, a in zip(review.outcomes, results["analyses"]):
        assert outcome.measure == a["measure"] and outcome.kind == "continuous"
        assert outcome.random == (a["method"] not in ("FE", "MH", "PETO"))
        assert len(outcome.rows) == len(a["studies"])
        for row, s in zip(outcome.rows, a["studies"]):
            assert row.data["m1"] == pytest.approx(s["m1i"], rel=1e-15)
            assert row.data["sd2"] == pytest.approx(s["sd2i"], rel=1e-15)
            assert row.data["n1"] == s["n1i"] and row.data["n2"] == s["n2i"]
        if a["pooled"]:
            assert outcome.stored["EFFECT_SIZE"] == pytest.approx(a["estimate"], rel=1e-15)


def test_covidence_rows_and_index(results, tmp_path):
    index = tmp_path / "export" / "index.csv"
    prisma = tmp_path / "PRISMA2020.csv"
    prisma.write_text("data,node,n\nx,y,1\n", encoding="utf-8")
    names = export.write_export(results, index, str(prisma))
    assert names == ["revman-data-rows.csv", "revman-overall-estimates-and-settings.csv",
                     "covidence-extraction.csv", "PRISMA2020.csv"]
    listed = export.listed_files(index)
    assert set(listed) == {"export/index.csv", *(f"export/{n}" for n in names)}
    rows = list(csv.DictReader(io.StringIO((index.parent / "covidence-extraction.csv").read_text(encoding="utf-8"))))
    assert len(rows) == sum(len(a["studies"]) for a in results["analyses"])
    first = results["analyses"][0]["studies"][0]
    assert rows[0]["Study ID"] == first["study"] and float(rows[0]["Intervention mean"]) == first["m1i"]
    assert rows[0]["Provenance"] == first["provenance"]
