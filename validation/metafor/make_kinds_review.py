"""Write the data-kinds test review (tests/fixtures/kinds_review/) from validation/metafor/kinds_review.json.

    Rscript validation/metafor/make_reference.R          # writes kinds_review.json (data + metafor's results)
    .venv/bin/python validation/metafor/make_kinds_review.py

One outcome per data kind and pooling method, from published data sets (metadat): dat.bcg (Colditz et al.
1994), dat.yusuf1985 (Yusuf et al. 1985, table 6), dat.normand1999 (Normand 1999) and dat.riley2003 (Riley
et al. 2003).  tests/test_kinds_review.py runs the workflow on it and compares with kinds_review.json.
"""

import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "kinds_review"

CONFIG = """\
# The data-kinds test review (written by validation/metafor/make_kinds_review.py; do not edit by hand).
review_dir: .
results_dir: results
reports_dir: reports
analysis:
  measure: OR            # review-wide default; every outcome below names its own
  method: REML
  test: knha
  level: 95
  leave_one_out: true
  subgroups:
    - {variable: source, label: Data set}
    - {variable: allocation, label: Allocation (dat.bcg)}
risk_of_bias:
  tool: rob2
report:
  pdf: false
"""

REVIEW = """\
title: "Data kinds test review (published data sets from R metadat)"
question: "Not a review: one outcome per data kind and pooling method, to test livingmeta end to end."
registration: "not registered"
type: clinical
unit_of_analysis: participants
arms: {treatment: Intervention, control: Control}
notice: >-
  Test data: each outcome is a published data set (R package metadat): BCG vaccine (Colditz et al. 1994,
  JAMA 271:698), beta blockers after myocardial infarction (Yusuf et al. 1985, Prog Cardiovasc Dis 27:335,
  table 6), length of stay (Normand 1999, Stat Med 18:321), MYCN and survival in neuroblastoma (Riley et al.
  2003, Br J Cancer 88:1191). The outcomes do not belong to one question.
"""

OUTCOMES = """\
outcomes:
  - id: tb
    label: Tuberculosis (BCG vaccine, dat.bcg)
    higher_is_better: false
    timepoints: [end of study]
    measure: RR
  - id: mortality_peto
    label: Mortality, Peto (dat.yusuf1985)
    higher_is_better: false
    timepoints: [end of study]
    measure: PETO
    method: PETO
  - id: mortality_mh
    label: Mortality, Mantel-Haenszel (dat.yusuf1985)
    higher_is_better: false
    timepoints: [end of study]
    measure: OR
    method: MH
  - id: los
    label: Length of hospital stay (dat.normand1999)
    unit: days
    higher_is_better: false
    timepoints: [end of study]
    measure: MD
  - id: os
    label: Overall survival, MYCN amplified (dat.riley2003)
    higher_is_better: false
    timepoints: [end of study]
    measure: HR
"""


def study_id(text):
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def yaml_value(x):
    return json.dumps(x) if isinstance(x, str) else repr(x)


def entry(outcome, source, body):
    lines = [f"  - outcome: {outcome}", "    timepoint: end of study",
             f"    unit: {'days' if outcome == 'los' else 'events' if outcome != 'os' else 'hazard ratio'}",
             "    higher_is_better: false", "    provenance: table", f"    source: {yaml_value(source)}"]
    return "\n".join(lines + ["    " + line for line in body]) + "\n"


# RoB 2 domains; the judgements are a fixed test pattern (the data sets were not assessed), varied by study so
# that the overall rule, the figures and GRADE's risk-of-bias proposal see every level
ROB_ITEMS = ("randomisation", "deviations", "missing_outcome_data", "outcome_measurement", "reported_result")
ROB_PATTERN = ("low", "low", "some_concerns", "low", "high", "low", "some_concerns")
STUDIES_WRITTEN = []


def write_study(sid, author, year, group, entries, label=None, extra_groups=""):
    i = len(STUDIES_WRITTEN)
    STUDIES_WRITTEN.append(sid)
    rob = f"study: {sid}\ntool: RoB 2\nitems:\n" + "".join(
        f"  {item}:\n    judgement: {ROB_PATTERN[(i + 3 * j) % len(ROB_PATTERN)] if j in (0, 2) else 'low'}\n"
        "    support: Test pattern; the data set was not assessed.\n" for j, item in enumerate(ROB_ITEMS))
    (OUT / "risk_of_bias" / f"{sid}.yaml").write_text(rob, encoding="utf-8")
    text = (f"study: {sid}\ncitation:\n  first_author: {yaml_value(author)}\n  year: {year}\n"
            + (f"  label: {yaml_value(label)}\n" if label else "") +
            f"characteristics: {{}}\ngroups:\n  source: {group}\n{extra_groups}outcomes:\n" + "".join(entries))
    (OUT / "studies" / f"{sid}.yaml").write_text(text, encoding="utf-8")


def columns(data):
    keys = list(data)
    return [dict(zip(keys, values)) for values in zip(*(data[k] for k in keys))]


def main():
    ref = json.loads((ROOT / "validation" / "metafor" / "kinds_review.json").read_text())["outcomes"]
    readme = (OUT / "README.md").read_text(encoding="utf-8") if (OUT / "README.md").exists() else None
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "studies").mkdir(parents=True)
    (OUT / "risk_of_bias").mkdir()
    if readme is not None:
        (OUT / "README.md").write_text(readme, encoding="utf-8")
    (OUT / "config.yaml").write_text(CONFIG)
    (OUT / "review.yaml").write_text(REVIEW)
    (OUT / "outcomes.yaml").write_text(OUTCOMES)
    for r in columns(ref["tb"]["data"]):
        body = ["treatment: {events: %d, total: %d}" % (r["ai"], r["n1i"]),
                "control: {events: %d, total: %d}" % (r["ci"], r["n2i"])]
        write_study(study_id(r["study"]), r["author"], r["year"], "bcg",
                    [entry("tb", "metadat::dat.bcg (tpos, tneg, cpos, cneg)", body)],
                    extra_groups=f"  allocation: {r['alloc']}\n")
    for r in columns(ref["mortality_peto"]["data"]):
        body = ["treatment: {events: %d, total: %d}" % (r["ai"], r["n1i"]),
                "control: {events: %d, total: %d}" % (r["ci"], r["n2i"])]
        src = "metadat::dat.yusuf1985, table 6"
        write_study("yusuf_" + study_id(r["study"]), r["author"], 1985, "yusuf1985",
                    [entry("mortality_peto", src, body), entry("mortality_mh", src, body)])
    for r in columns(ref["los"]["data"]):
        body = ["treatment: {mean: %r, sd: %r, n: %d}" % (r["m1i"], r["sd1i"], r["n1i"]),
                "control: {mean: %r, sd: %r, n: %d}" % (r["m2i"], r["sd2i"], r["n2i"])]
        write_study("normand_" + study_id(r["study"]), r["author"], 1999, "normand1999",
                    [entry("los", "metadat::dat.normand1999", body)])
    for r in columns(ref["os"]["data"]):
        body = [f"estimate: {r['hr']!r}", "scale: ratio"]
        body += [f"se: {r['se']!r}"] if r["se"] is not None else [f"ci_lb: {r['ci_lb']!r}", f"ci_ub: {r['ci_ub']!r}"]
        write_study("riley_" + study_id(r["study"]), "Riley", 2003, "riley2003",
                    [entry("os", "metadat::dat.riley2003 (outcome OS; HR = exp(yi), 2 decimals)", body)],
                    label=f"Riley 2003 data, {r['author']}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
