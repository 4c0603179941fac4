"""The analysis data as CSV files: one file per analysis with its studies in the forest plot's order,
pooled.csv with one row per analysis, every value as results.json holds it (numbers in full, an empty
cell when missing), and index.csv listing them; a review without analyses gets pooled.csv's header."""
from __future__ import annotations

import csv
import html
import math

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.report import svg
from livingmeta.report.data import (POOLED_COLUMNS, STUDY_COLUMNS, cell, listed_files, pooled_row, study_row,
                                    write_data)


def read_rows(path) -> tuple[list[str], list[dict]]:
    """The header and the rows of a CSV file."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def expected(value) -> str:
    """How a value of results.json reads in a data file."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return "" if value is None else str(value)


@pytest.fixture()
def index(results, tmp_path):
    """data/index.csv of the fixtures' results.json, written with its files."""
    path = tmp_path / "data" / "index.csv"
    write_data(results, path)
    return path


def test_each_analysis_file_holds_its_studies_in_the_forest_plots_order(results, index):
    for analysis in results["analyses"]:
        header, rows = read_rows(index.parent / f"{analysis['analysis']}.csv")
        assert header == list(STUDY_COLUMNS)
        studies = analysis["studies"]
        assert [row["study"] for row in rows] == [s["study"] for s in studies]
        plot = svg.forest_plot(analysis)
        places = [plot.index(f">{html.escape(s['label'])}<") for s in studies]
        assert places == sorted(places)  # the plot's rows, top to bottom
        for row, study in zip(rows, studies):
            for column in STUDY_COLUMNS:
                if column not in ("sei", "direction_flipped"):
                    assert row[column] == expected(study[column]), column
            [effect] = [e for s in results["studies"] if s["study"] == study["study"] for e in s["effects"]
                        if e["analysis"] == analysis["analysis"]]
            assert row["direction_flipped"] == expected(effect["direction_flipped"])
            assert float(row["yi"]) == study["yi"] and float(row["vi"]) == study["vi"]
            assert float(row["weight"]) == study["weight"]  # in percent, as the report
            assert float(row["sei"]) == math.sqrt(study["vi"])


def test_pooled_csv_holds_one_row_per_analysis_as_results_json(results, index):
    header, rows = read_rows(index.parent / "pooled.csv")
    assert header == list(POOLED_COLUMNS)
    assert [row["analysis"] for row in rows] == [a["analysis"] for a in results["analyses"]]
    for row, analysis in zip(rows, results["analyses"]):
        assert row == {column: expected(analysis.get(column)) for column in POOLED_COLUMNS}
        for column in ("estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "I2", "Q"):
            assert float(row[column]) == analysis[column], column
    dhi, _, mmp13 = rows
    assert (dhi["method"], dhi["test"], dhi["k"], dhi["Q_df"], dhi["illustrative"]) == ("REML", "knha", "4", "3",
                                                                                         "TRUE")
    assert mmp13["k"] == "1" and mmp13["pi_lb"] == mmp13["Q_pval"] == ""  # a single study: no interval, no test


def test_values_are_written_in_full_and_a_missing_one_as_an_empty_cell(results):
    assert [cell(v) for v in (0.1 + 0.2, 1e-20, -2.5, 6, True, False, None, "Liu 2023")] == [
        "0.30000000000000004", "1e-20", "-2.5", "6", "TRUE", "FALSE", "", "Liu 2023"]
    study = dict(results["analyses"][0]["studies"][0], yi=2.7105561234567891, m1i=None)
    del study["sd1i"]
    row = dict(zip(STUDY_COLUMNS, study_row(study)))
    assert row["yi"] == "2.710556123456789" and row["m1i"] == row["sd1i"] == ""
    analysis = dict(results["analyses"][0], tau2=None)
    assert dict(zip(POOLED_COLUMNS, pooled_row(analysis)))["tau2"] == ""


def test_the_index_lists_pooled_csv_and_one_file_per_analysis(results, tmp_path):
    path = tmp_path / "data" / "index.csv"
    path.parent.mkdir()
    (path.parent / "removed_analysis__4_weeks.csv").write_text("study\n")  # from an earlier report
    written = write_data(results, path)
    header, rows = read_rows(path)
    assert header == ["file", "description"]
    assert [row["file"] for row in rows] == written == ["pooled.csv"] + [f"{a['analysis']}.csv"
                                                                       for a in results["analyses"]]
    assert rows[1]["description"] == ("Disc height index (DHI), 4 weeks (SMD, k = 4): one row per study in the "
                                      "forest plot's order; illustrative numbers, not evidence")
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(["index.csv", *written])
    listed = listed_files(path)
    assert list(listed) == [f"data/{name}" for name in ["index.csv", *written]]
    assert all(file.is_file() for file in listed.values())


def test_a_review_without_analyses_gets_pooled_csv_with_its_header_only_and_an_index(tmp_path):
    path = tmp_path / "data" / "index.csv"
    assert write_data({"analyses": []}, path) == ["pooled.csv"]
    assert (path.parent / "pooled.csv").read_text(encoding="utf-8") == ",".join(POOLED_COLUMNS) + "\n"
    assert [row["file"] for row in read_rows(path)[1]] == ["pooled.csv"]
    assert listed_files(path) == {"data/index.csv": path, "data/pooled.csv": path.parent / "pooled.csv"}


def test_a_data_file_missing_at_publish_is_one_message_naming_it(index):
    (index.parent / "mmp13__12_weeks.csv").unlink()
    with pytest.raises(ReviewInputError, match=r"1 data file\(s\) it lists are missing \(mmp13__12_weeks.csv\)"):
        listed_files(index)


def test_a_flipped_study_says_so_in_its_row(results, tmp_path):
    analysis = results["analyses"][0]
    first = analysis["studies"][0]["study"]
    for study in results["studies"]:
        for effect in study["effects"]:
            if study["study"] == first and effect["analysis"] == analysis["analysis"]:
                effect["direction_flipped"] = True
    write_data(results, tmp_path / "data" / "index.csv")
    _, rows = read_rows(tmp_path / "data" / f"{analysis['analysis']}.csv")
    assert [row["direction_flipped"] for row in rows] == ["TRUE"] + ["FALSE"] * (len(rows) - 1)
