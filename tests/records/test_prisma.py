"""PRISMA 2020 counts: previous version, this version, consistency errors, PRISMA2020 CSV round trip."""
from __future__ import annotations

import csv
import io
import textwrap

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.records import prisma, prisma_csv
from livingmeta.records import screening as scr

from tests.records.test_screening import make_dedup, rid, write_csv

# The example review's original search as published (Fig. 1 / Results of the seed paper):
# 1844 identified, 508 duplicates, 1336 screened, 1275 excluded, 61 assessed, 51 excluded, 10 included.
PUBLISHED = {
    "search_date": "2025-02-28", "search_date_approximate": True,
    "databases": ["PubMed", "Embase", "Cochrane Library", "Web of Science"],
    "identified": {"all databases (not itemised)": 1844},
    "duplicates_removed": 508, "records_screened": 1336, "records_excluded": 1275,
    "reports_sought": 61, "reports_not_retrieved": 0, "reports_assessed": 61,
    "reports_excluded": {prisma.NOT_ITEMISED: 51}, "new_studies": 10, "total_studies": 10,
}


def test_published_flow_adds_up_and_defaults_are_filled():
    flow = prisma.parse_previous(dict(PUBLISHED))
    assert flow["new_reports"] == 10 and flow["total_reports"] == 10 and flow["previous_studies"] == 0
    assert all(c["ok"] for c in flow["checks"])
    assert {c["check"] for c in flow["checks"]} >= {"records_screened", "records_excluded", "reports_assessed",
                                                    "reports_excluded", "total_studies"}


@pytest.mark.parametrize("change, field, numbers", [
    ({"records_screened": 1335}, "records_screened",
     "records screened (1335) + awaiting screening (0) = 1335, but records identified (1844) - duplicates removed "
     "(508) - removed by automation (0) - removed for other reasons (0) = 1336"),
    ({"records_excluded": 1270}, "records_excluded",
     "records excluded (1270) + reports sought for retrieval (61) = 1331, but records screened (1336) = 1336"),
    ({"reports_excluded": {"no control group": 50}}, "reports_excluded",
     "reports excluded (50) + reports of new included studies (10) = 60, but reports assessed for eligibility (61) = 61"),
    ({"total_studies": 11}, "total_studies",
     "total studies (11) = 11, but studies in the previous version (0) + new studies (10) = 10"),
    ({"reports_not_retrieved": 2}, "reports_assessed",
     "reports not retrieved (2) + assessed (61) + awaiting assessment (0) = 63, but reports sought for retrieval (61) = 61"),
])
def test_mismatch_is_an_error_naming_the_numbers(change, field, numbers):
    data = {**PUBLISHED, **change}
    with pytest.raises(prisma.PrismaConsistencyError) as info:
        prisma.parse_previous(data, "review/previous_version.yaml")
    text = info.value.format()
    assert text.startswith(f"review/previous_version.yaml: {field}: the previous version's PRISMA counts do not add up")
    assert numbers in text


def test_several_mismatches_are_all_reported():
    with pytest.raises(prisma.PrismaConsistencyError) as info:
        prisma.parse_previous({**PUBLISHED, "duplicates_removed": 500, "total_studies": 9})
    lines = info.value.format().splitlines()
    assert len(lines) == 2 and "records_screened" in lines[0] and "total_studies" in lines[1]


@pytest.mark.parametrize("data, words", [
    ({**PUBLISHED, "records_screened": -1}, "records_screened: must be a whole number >= 0"),
    ({k: v for k, v in PUBLISHED.items() if k != "duplicates_removed"}, "duplicates_removed: is missing"),
    ({**PUBLISHED, "identified": {"pubmed": "many"}}, "identified.pubmed: count must be a whole number"),
    ({**PUBLISHED, "search_date": "spring 2025"}, "search_date: not a date"),
    ({**PUBLISHED, "screened": 3}, "unknown key(s) screened"),
    ([1, 2], "must be a mapping"),
])
def test_bad_previous_file(data, words):
    with pytest.raises(ReviewInputError) as info:
        prisma.parse_previous(data, "review/previous_version.yaml")
    assert words in info.value.format()


def test_load_previous_yaml(tmp_path):
    path = tmp_path / "previous_version.yaml"
    path.write_text(textwrap.dedent("""
        search_date: 2025-02-28        # YAML reads this as a date
        identified: {total: 20}
        duplicates_removed: 5
        records_screened: 15
        records_excluded: 10
        reports_assessed: 5
        reports_excluded: {no control group: 3}
        new_studies: 2
    """))
    flow = prisma.load_previous(path, "review/previous_version.yaml")
    assert flow["search_date"] == "2025-02-28"
    assert flow["reports_sought"] == 5 and flow["total_studies"] == 2
    path.write_text("identified: [unclosed\n")
    with pytest.raises(ReviewInputError, match="review/previous_version.yaml: not valid YAML"):
        prisma.load_previous(path, "review/previous_version.yaml")


def _screened(folder):
    dedup = make_dedup(10, duplicates={1: 1, 2: 2})
    ta = write_csv(folder / "title_abstract.csv", "record_id,reviewer,decision\n" + "".join(
        f"{rid(i)},AB,{d}\n{rid(i)},CD,{d}\n"
        for i, d in [(1, "include"), (2, "include"), (3, "include"), (4, "exclude"), (5, "exclude"),
                     (6, "include")]) + f"{rid(7)},AB,include\n")
    ft = write_csv(folder / "full_text.csv", "record_id,reviewer,decision,reason\n"
                   f"{rid(1)},AB,exclude,in vitro only\n{rid(1)},CD,exclude,in vitro only\n"
                   f"{rid(2)},AB,include,\n{rid(2)},CD,include,\n"
                   f"{rid(3)},AB,not_retrieved,\n")
    return dedup, scr.screen(dedup, [ta, ft], None)


def test_this_version_counts(tmp_path):
    dedup, screening = _screened(tmp_path / "screening")
    previous = prisma.parse_previous(dict(PUBLISHED))
    out = prisma.compute_prisma(dedup, screening, previous)
    assert out["identified"] == {"pubmed": 10, "embase": 2} and out["duplicates_removed"] == 2
    assert (out["records_screened"], out["records_excluded"], out["records_awaiting_screening"]) == (6, 2, 4)
    assert (out["reports_sought"], out["reports_not_retrieved"], out["reports_assessed"],
            out["reports_awaiting_assessment"]) == (4, 1, 2, 1)
    assert out["reports_excluded"] == {"in vitro only": 1}
    assert (out["new_reports"], out["new_studies"]) == (1, 1)
    assert (out["previous_studies"], out["total_studies"], out["total_reports"]) == (10, 11, 11)
    assert out["update"] is True
    assert out["previous"]["records_screened"] == 1336 and out["previous"]["identified_total"] == 1844
    assert out["agreement"]["title_abstract"]["n"] == 6
    assert out["agreement"]["title_abstract"]["kappa"] == pytest.approx(1.0)
    assert out["searches"] == {"exports": {"embase": ["2025-07-01"], "pubmed": ["2025-06-30"]},
                               "latest": "2025-07-01"}
    required = {"previous_studies", "identified", "duplicates_removed", "records_screened", "records_excluded",
                "reports_sought", "reports_not_retrieved", "reports_assessed", "reports_excluded", "new_studies",
                "total_studies", "previous", "agreement"}
    assert required <= set(out)


def test_report_of_a_previous_study_is_not_a_new_study(tmp_path):
    dedup, screening = _screened(tmp_path / "screening")
    screening["included"][0]["study"] = "liao2021"
    previous = prisma.parse_previous({**PUBLISHED, "studies": ["liao2021"]})
    out = prisma.compute_prisma(dedup, screening, previous)
    assert (out["new_reports"], out["new_studies"], out["total_studies"], out["total_reports"]) == (1, 0, 10, 11)


def test_new_review_without_previous_version(tmp_path):
    dedup, screening = _screened(tmp_path / "screening")
    out = prisma.compute_prisma(dedup, screening, None)
    assert out["previous"] is None and out["previous_studies"] == 0 and out["total_studies"] == 1
    assert out["update"] is False


def test_library_that_does_not_add_up_is_an_error(tmp_path):
    dedup, screening = _screened(tmp_path / "screening")
    dedup["identified"]["pubmed"] = 11
    with pytest.raises(prisma.PrismaConsistencyError, match=r"add up to 13 \(pubmed: 11, embase: 2\) but the "
                                                            r"library holds 12 records"):
        prisma.compute_prisma(dedup, screening, None)
    dedup["identified"]["pubmed"] = 10
    dedup["duplicates_removed"] = 3
    with pytest.raises(prisma.PrismaConsistencyError, match=r"duplicates removed \(3\) = 9, but the screening "
                                                            r"library holds 10 unique records"):
        prisma.compute_prisma(dedup, screening, None)


# ------------------------------------------------------------------------------- PRISMA2020 CSV

def _rows(text):
    return {r["data"]: r for r in csv.DictReader(io.StringIO(text)) if r["data"] != "NA"}


def test_export_follows_the_template(tmp_path):
    dedup, screening = _screened(tmp_path / "screening")
    out = prisma.compute_prisma(dedup, screening, prisma.parse_previous(dict(PUBLISHED)))
    text = prisma_csv.export_csv_text(out)
    assert text.splitlines()[0] == "data,node,box,description,boxtext,tooltips,url,n"
    rows = _rows(text)
    assert len(text.splitlines()) == 1 + len(prisma_csv.TEMPLATE) == 33
    assert rows["previous_studies"]["n"] == "10" and rows["previous_studies"]["box"] == "box1"
    assert rows["database_results"]["n"] == "12"
    assert rows["database_specific_results"]["n"] == "pubmed, 10; embase, 2"
    assert rows["duplicates"]["n"] == "2"
    assert rows["records_screened"]["n"] == "6"
    assert rows["dbr_excluded"]["n"] == "in vitro only, 1"
    assert rows["total_studies"]["n"] == "11"
    # names with ',' or ';' would break the package's parser
    assert prisma_csv.format_list({"no control, or sham; group": 2}) == "no control - or sham - group, 2"


def test_round_trip_previous_version():
    flow = prisma.parse_previous(dict(PUBLISHED))
    back = prisma_csv.import_csv(prisma_csv.export_csv_text(flow), is_text=True)
    for key in ("identified", "duplicates_removed", "records_screened", "records_excluded", "reports_sought",
                "reports_not_retrieved", "reports_assessed", "reports_excluded", "new_studies", "total_studies"):
        assert back[key] == flow[key], key


def _template_text(values):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(prisma_csv.COLUMNS)
    for row in prisma_csv.TEMPLATE:
        w.writerow(list(row) + [values.get(row[0], "0")])
    return buf.getvalue()


def test_import_the_package_template_as_shipped():
    # The PRISMA2020 package's own inst/extdata/PRISMA.csv has placeholder lists ("Database 1, xxx; ...")
    # and zeros; with consistent numbers filled in it imports, otherwise the check names the numbers.
    values = {"database_results": "1,844", "database_specific_results": "Database 1, xxx; Database 2, xxx",
              "duplicates": "508", "records_screened": "1336", "records_excluded": "1275",
              "dbr_sought_reports": "61", "dbr_assessed": "61", "dbr_excluded": "Reason1, xxx; Reason2, xxx",
              "new_studies": "10", "total_studies": "10"}
    flow = prisma_csv.import_csv(_template_text(values), is_text=True)
    assert flow["identified"] == {"databases": 1844}
    assert flow["reports_excluded"] == {"reasons not given in the PRISMA2020 file": 51}
    assert (flow["records_screened"], flow["new_reports"], flow["total_reports"]) == (1336, 10, 10)
    with pytest.raises(prisma.PrismaConsistencyError, match=r"records screened \(1330\)"):
        prisma_csv.import_csv(_template_text({**values, "records_screened": "1330"}), is_text=True)


def test_import_with_other_methods_and_bad_numbers():
    flow = prisma.parse_previous(dict(PUBLISHED))
    text = prisma_csv.export_csv_text(flow).replace("citations_results,NA,box11,Records identified from: Citation "
                                                    "searching,Citation searching,NA,NA,0",
                                                    "citations_results,NA,box11,Records identified from: Citation "
                                                    "searching,Citation searching,NA,NA,4")
    with pytest.raises(prisma.PrismaConsistencyError):
        prisma_csv.import_csv(text, is_text=True)   # 4 more records identified but none screened
    with pytest.raises(ReviewInputError, match="dbr_assessed: n: 'sixty' is not a whole number"):
        prisma_csv.import_csv(prisma_csv.export_csv_text(flow).replace("dbr_assessed.html,61", "dbr_assessed.html,sixty"),
                              is_text=True)


def test_cli_round_trip(tmp_path, capsys):
    import json

    src = tmp_path / "prisma.json"
    src.write_text(json.dumps(prisma.parse_previous(dict(PUBLISHED))))
    out_csv = tmp_path / "PRISMA.csv"
    assert prisma_csv.main(["export", str(src), str(out_csv)]) == 0
    assert prisma_csv.main(["import", str(out_csv)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Counts of the previous version")
    import yaml

    again = prisma.parse_previous(yaml.safe_load(text))
    assert again["records_screened"] == 1336


def test_planning_time_check_of_the_previous_version(tmp_path):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    assert prisma.problems_in_previous_version(repo / "review" / "previous_version.yaml") == []
    assert prisma.problems_in_previous_version(None) == []
    assert prisma.problems_in_previous_version(tmp_path / "absent.yaml") == []
    path = tmp_path / "previous_version.yaml"
    import yaml

    path.write_text(yaml.safe_dump({**PUBLISHED, "duplicates_removed": 500, "total_studies": 9}))
    problems = prisma.problems_in_previous_version(path, "review/previous_version.yaml")
    assert [p.field for p in problems] == ["records_screened", "total_studies"]
    assert all(p.file == "review/previous_version.yaml" for p in problems)
    path.write_text("identified: [unclosed\n")
    [problem] = prisma.problems_in_previous_version(path, "review/previous_version.yaml")
    assert "not valid YAML" in problem.format()
