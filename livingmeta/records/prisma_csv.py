"""Import and export of PRISMA 2020 counts in the CSV template of the PRISMA2020 R package / Shiny app
(Haddaway et al. 2022, Campbell Systematic Reviews 18:e1230; ``inst/extdata/PRISMA.csv``).

The template has one row per box with the columns ``data,node,box,description,boxtext,tooltips,url,n``;
``n`` holds a number, except ``database_specific_results``, ``register_specific_results``,
``dbr_excluded`` and ``other_excluded``, which hold ``"Name, n; Name, n"`` lists (the package splits
them at ``;`` and takes the text before the first comma as the name, so names must contain neither).

livingmeta treats every search source as a database (``database_*``/``dbr_*`` boxes); the "other
methods" boxes are written as 0 and, on import, added to the database counts with a warning-free note.

Command line::

    python -m livingmeta.records.prisma_csv export results/records/prisma.json PRISMA.csv
    python -m livingmeta.records.prisma_csv import PRISMA.csv > review/previous_version.yaml
"""

from __future__ import annotations

import csv
import io
import re
import sys
from typing import Any

from livingmeta.errors import ReviewInputError

COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")

# (data, node, box, description, boxtext, tooltips, url) of the package's template, in its order
TEMPLATE = [
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review", "Studies included in previous version of review",
     "previous_studies.html"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA", "previous_reports.html"),
    ("NA", "node6", "newstud", "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers", "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases and Registers", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases",
     "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA", "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers",
     "Specific Registers", "NA", "database_results.html"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other methods",
     "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites, Organisations and Citation Searching", "website_results.html"),
    ("organisation_results", "", "box11", "Records identified from: Organisations", "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching", "Citation searching",
     "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records", "Duplicate records",
     "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons", "Records removed for other reasons",
     "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)", "Records screened",
     "Records screened (databases and registers)", "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)", "Records excluded",
     "Records excluded (databases and registers)", "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval (databases and registers)",
     "Reports sought for retrieval", "Reports sought for retrieval (databases and registers)",
     "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved (databases and registers)",
     "Reports not retrieved", "Reports not retrieved (databases and registers)", "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval", "Reports sought for retrieval (other)", "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)", "Reports not retrieved",
     "Reports not retrieved (other)", "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (databases and registers)",
     "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9",
     "Reports excluded (databases and registers): [separate reasons and numbers using ; e.g. Reason1, xxx; "
     "Reason2, xxx; Reason3, xxx]", "Reports excluded", "Reports excluded (databases and registers)",
     "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)", "other_assessed.html"),
    ("other_excluded", "node21", "box15",
     "Reports excluded (other): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; "
     "Reason3, xxx]", "Reports excluded", "Reports excluded (other)", "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review", "New studies included in review",
     "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies", "Reports of new included studies", "NA",
     "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review", "Total studies included in review",
     "Total studies included in review", "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies", "Reports of total included studies",
     "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening", "Blue screening box", "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box", "included.html"),
]
LIST_ROWS = ("database_specific_results", "register_specific_results", "dbr_excluded", "other_excluded")


def _clean_name(name: str) -> str:
    """A name the R package can parse back: no ',' or ';'."""
    return re.sub(r"\s*[,;]\s*", " - ", str(name)).strip()


def format_list(counts: dict[str, int]) -> str:
    return "; ".join(f"{_clean_name(k)}, {int(v)}" for k, v in counts.items())


def parse_list(text: str, *, file: str = "PRISMA.csv", row: str = "") -> dict[str, int]:
    """Parse "Name, n; Name, n" (the package's format). A bare number gives {"total": n}."""
    text = (text or "").strip()
    if not text or text.upper() == "NA":
        return {}
    if re.fullmatch(r"[\d,\s]+", text):
        return {"total": int(re.sub(r"\D", "", text))}
    out: dict[str, int] = {}
    for part in re.split(r";\s?", text):
        if not part.strip():
            continue
        name, _, number = part.partition(",")
        digits = re.sub(r"[^0-9]", "", number)
        if not digits:
            raise ReviewInputError(f"'{part.strip()}' has no count (expected 'Name, n')", file=file,
                                   field=f"{row}: n", hint="Separate entries with ';' and write 'Name, n' in each.")
        out[name.strip()] = out.get(name.strip(), 0) + int(digits)
    return out


def _number(text: str, *, file: str, row: str) -> int:
    text = (text or "").strip()
    if not text or text.upper() == "NA":
        return 0
    digits = re.sub(r"[,\s]", "", text)
    if not digits.isdigit():
        raise ReviewInputError(f"'{text}' is not a whole number", file=file, field=f"{row}: n")
    return int(digits)


def to_prisma2020_rows(prisma: dict) -> dict[str, Any]:
    """The ``n`` value of every data row of the template for a prisma.json document."""
    identified = prisma.get("identified") or {}
    excluded = prisma.get("reports_excluded") or {}
    return {
        "previous_studies": prisma.get("previous_studies", 0),
        "previous_reports": prisma.get("previous_reports", prisma.get("previous_studies", 0)),
        "database_results": sum(identified.values()),
        "database_specific_results": format_list(identified),
        "register_results": 0,
        "register_specific_results": "",
        "website_results": 0,
        "organisation_results": 0,
        "citations_results": 0,
        "duplicates": prisma.get("duplicates_removed", 0),
        "excluded_automatic": prisma.get("automation_removed", 0),
        "excluded_other": prisma.get("other_removed", 0),
        "records_screened": prisma.get("records_screened", 0),
        "records_excluded": prisma.get("records_excluded", 0),
        "dbr_sought_reports": prisma.get("reports_sought", 0),
        "dbr_notretrieved_reports": prisma.get("reports_not_retrieved", 0),
        "other_sought_reports": 0,
        "other_notretrieved_reports": 0,
        "dbr_assessed": prisma.get("reports_assessed", 0),
        "dbr_excluded": format_list(excluded),
        "other_assessed": 0,
        "other_excluded": "",
        "new_studies": prisma.get("new_studies", 0),
        "new_reports": prisma.get("new_reports", prisma.get("new_studies", 0)),
        "total_studies": prisma.get("total_studies", 0),
        "total_reports": prisma.get("total_reports", prisma.get("total_studies", 0)),
    }


def export_csv_text(prisma: dict) -> str:
    """The PRISMA2020 template CSV text with this version's counts."""
    values = to_prisma2020_rows(prisma)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for data, *rest in TEMPLATE:
        n = values.get(data, 0)
        writer.writerow([data, *rest, n])
    return buf.getvalue()


def import_csv(path_or_text: str, *, file: str | None = None, is_text: bool = False) -> dict:
    """Read a PRISMA2020 template CSV into livingmeta's flow keys (the previous_version.yaml format).

    Records and reports from "other methods" are added to the database counts (livingmeta has one
    stream); the returned ``note`` says so when they were non-zero. The result is checked with
    :func:`livingmeta.records.prisma.parse_previous` (every box must add up)."""
    from livingmeta.records.prisma import parse_previous

    shown = file or ("PRISMA.csv" if is_text else str(path_or_text))
    if is_text:
        text = path_or_text
    else:
        with open(path_or_text, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "data" not in rows[0] or "n" not in rows[0]:
        raise ReviewInputError("not a PRISMA2020 template (needs the columns data and n)", file=shown,
                               hint="Export the CSV from the PRISMA2020 app or package (PRISMA.csv).")
    values: dict[str, str] = {}
    for row in rows:
        key = (row.get("data") or "").strip()
        if key and key != "NA":
            values[key] = row.get("n") or ""

    def num(key):
        return _number(values.get(key, ""), file=shown, row=key)

    specific = values.get("database_specific_results", "")
    identified = {} if _is_placeholder(specific) else \
        parse_list(specific, file=shown, row="database_specific_results")
    if sum(identified.values()) != num("database_results"):
        identified = {"databases": num("database_results")} if num("database_results") else {}
    registers = num("register_results")
    if registers:
        specific = values.get("register_specific_results", "")
        reg = {} if _is_placeholder(specific) else \
            parse_list(specific, file=shown, row="register_specific_results")
        if sum(reg.values()) != registers:
            reg = {"registers": registers}
        identified.update(reg)
    other_records = num("website_results") + num("organisation_results") + num("citations_results")
    if other_records:
        identified["other methods"] = other_records
    excluded = {} if _is_placeholder(values.get("dbr_excluded", "")) else \
        parse_list(values.get("dbr_excluded", ""), file=shown, row="dbr_excluded")
    if not _is_placeholder(values.get("other_excluded", "")):
        for k, v in parse_list(values.get("other_excluded", ""), file=shown, row="other_excluded").items():
            excluded[k] = excluded.get(k, 0) + v
    excluded = {k: v for k, v in excluded.items() if v}
    assessed = num("dbr_assessed") + num("other_assessed")
    new_reports = num("new_reports") or num("new_studies")
    if excluded and set(excluded) == {"total"}:
        excluded = {"reason not given": excluded["total"]}
    if not excluded and assessed - new_reports > 0:
        excluded = {"reasons not given in the PRISMA2020 file": assessed - new_reports}
    flow = {
        "identified": identified,
        "duplicates_removed": num("duplicates"),
        "automation_removed": num("excluded_automatic"),
        "other_removed": num("excluded_other"),
        "records_screened": num("records_screened") + other_records,
        "records_excluded": num("records_excluded"),
        "reports_sought": num("dbr_sought_reports") + num("other_sought_reports"),
        "reports_not_retrieved": num("dbr_notretrieved_reports") + num("other_notretrieved_reports"),
        "reports_assessed": assessed,
        "reports_excluded": excluded,
        "new_studies": num("new_studies"),
        "new_reports": new_reports,
        "previous_studies": num("previous_studies"),
        "previous_reports": num("previous_reports"),
        "total_studies": num("total_studies") or num("previous_studies") + num("new_studies"),
        "total_reports": num("total_reports") or num("previous_reports") + new_reports,
    }
    if other_records:
        flow["note"] = ("records identified via other methods were counted as screened records "
                        "(livingmeta has a single identification stream)")
    flow.pop("checks", None)
    parse_previous(flow, shown)  # raises when the boxes do not add up
    return flow


def _is_placeholder(text: str) -> bool:
    return "xxx" in (text or "")


def previous_yaml_text(flow: dict, source: str = "") -> str:
    """previous_version.yaml text for an imported flow."""
    import yaml

    head = "# Counts of the previous version of the review (PRISMA 2020 flow)"
    if source:
        head += f", imported from {source}"
    body = yaml.safe_dump({k: v for k, v in flow.items() if k != "checks"}, sort_keys=False, allow_unicode=True)
    return head + "\n# Format: docs/screening.md\n" + body


def main(argv=None) -> int:
    import json

    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] not in ("export", "import"):
        sys.stderr.write(__doc__.split("Command line::", 1)[1])
        return 2
    try:
        if argv[0] == "export":
            with open(argv[1], encoding="utf-8") as handle:
                text = export_csv_text(json.load(handle))
            if len(argv) > 2:
                with open(argv[2], "w", encoding="utf-8", newline="") as out:
                    out.write(text)
            else:
                sys.stdout.write(text)
        else:
            sys.stdout.write(previous_yaml_text(import_csv(argv[1]), argv[1]))
    except ReviewInputError as err:
        sys.stderr.write(f"livingmeta: error: {err.format()}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
