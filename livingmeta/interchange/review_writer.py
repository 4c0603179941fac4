"""Write a :class:`~livingmeta.interchange.revman_model.RevmanReview` as a livingmeta review folder.

The folder starts as ``livingmeta init`` makes it (its template: config.yaml, review.yaml, README.md,
templates) and gains:

* ``studies/<study>.yaml``: one study file per included study with data (docs/study-file.md): citation
  (name and year as RevMan has them, title/journal/DOI/PMID of the primary reference), characteristics
  (RevMan's methods/participants/interventions/outcomes/notes), and per analysis one outcome entry with
  events/totals, means/SDs/n, or the estimate with its SE;
* ``outcomes.yaml``: one outcome per RevMan analysis (id ``c<comparison>_o<outcome>_<name>``, the single
  timepoint ``end of study`` -- RevMan analyses have none), with its measure, method and test, and its arms
  named as RevMan's group labels name them (``Favours Aspirin``);
* ``review.yaml``: a clinical review whose unit of analysis is participants (RevMan is Cochrane's tool for
  reviews of interventions);
* ``config.yaml``: ``analysis`` takes the first analysis's measure and method; ``smd_variance: REVMAN5``
  when an analysis uses the SMD (RevMan 5's Hedges' g formulas, Deeks & Higgins 2010, *Statistical
  algorithms in Review Manager 5*); ``test: z`` (RevMan's Wald-type intervals);
* ``risk_of_bias/<study>.yaml`` and ``rob1_revman.yaml`` (a review's own tool definition listing the
  file's domains, low / unclear / high, no overall judgement: Higgins et al. 2011, BMJ 343:d5928) when the
  file has risk-of-bias judgements.

RevMan's settings map to livingmeta's as: fixed effect + Mantel-Haenszel -> ``method: MH``; fixed + Peto
-> ``PETO``; fixed + inverse variance -> ``FE``; random effects (any method) -> ``DL`` (DerSimonian and
Laird, RevMan 5's only random-effects estimator; RevMan computes its Q for MH random effects around the
MH estimate, livingmeta around the inverse-variance one: tau^2 may differ slightly).

The direction (``higher_is_better``) follows the forest plot's labels: ``false`` (lower favours the
experimental arm, RevMan's default) unless the left label names the control arm (or 'placebo').
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

from livingmeta.errors import ReviewInputError
from livingmeta.interchange.revman_model import RevmanOutcome, RevmanReview, slug

TIMEPOINT = "end of study"
ROB_TOOL_FILE = "rob1_revman.yaml"
# The domains of the Cochrane risk-of-bias tool (RoB 1; Higgins et al. 2011, BMJ 343:d5928, table 2): used
# when the RevMan file lists none
ROB1_DOMAINS = (("d1", "Random sequence generation (selection bias)"),
                ("d2", "Allocation concealment (selection bias)"),
                ("d3", "Blinding of participants and personnel (performance bias)"),
                ("d4", "Blinding of outcome assessment (detection bias)"),
                ("d5", "Incomplete outcome data (attrition bias)"),
                ("d6", "Selective reporting (reporting bias)"), ("d7", "Other bias"))
_YEAR = re.compile(r"\b(1[6-9]\d\d|20\d\d)\b")


def method_of(o: RevmanOutcome) -> str:
    if o.random:
        return "DL"
    return {"MH": "MH", "PETO": "PETO"}.get(o.method, "FE")


def higher_is_better(o: RevmanOutcome) -> bool:
    """``True`` when the forest plot's left label favours the control arm (it names the control group,
    'control' or 'placebo', and not the experimental group)."""
    left = (o.graph_labels[0] or "").lower()
    exp_words = ["experimental"] + ([o.group_labels[0].lower()] if o.group_labels[0] else [])
    ctl_words = ["control", "placebo"] + ([o.group_labels[1].lower()] if o.group_labels[1] else [])
    return any(w in left for w in ctl_words) and not any(w in left for w in exp_words)


def outcome_ids(review: RevmanReview) -> list[str]:
    ids = []
    for o in review.outcomes:
        c, _, n = o.number.partition(".")
        base = f"c{slug(c, 6) or 0}_o{slug(n, 6) or 0}"
        name = slug(o.name, 30)
        ids.append(f"{base}_{name}" if name else base)
    return ids


def study_ids(review: RevmanReview) -> dict[str, str]:
    out, used = {}, set()
    for key, s in review.studies.items():
        ascii_name = unicodedata.normalize("NFKD", s.name).encode("ascii", "ignore").decode()
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_name.strip()).strip("_-").lower() or "study"
        if s.year and s.year not in base:
            base = f"{base}_{s.year}"
        sid, i = base, 2
        while sid in used:
            sid, i = f"{base}_{i}", i + 1
        used.add(sid)
        out[key] = sid
    return out


def _citation(review: RevmanReview, key: str) -> dict:
    s = review.studies[key]
    year = s.year if s.year.isdigit() else ""
    if not year:
        m = _YEAR.search(s.name)
        year = m.group(1) if m else ""
    if not year:
        raise ReviewInputError(f"not imported: study '{s.name}' has no year", file=review.file,
                               hint="Give the study its year in RevMan (livingmeta's study files need one).")
    author = _YEAR.split(s.name)[0].strip(" ,;-") or s.name
    cit = {"first_author": author, "year": int(year), "label": s.name if _YEAR.search(s.name) else f"{s.name} {year}"}
    cit.update(s.citation)
    cit["reference"] = f"{s.name} in {Path(review.file).name}"
    return cit


def _entry(review: RevmanReview, o: RevmanOutcome, oid: str, data: dict) -> dict:
    e = {"outcome": oid, "timepoint": TIMEPOINT}
    if o.kind == "continuous":
        e["unit"] = "as in RevMan (unit not stated)"
    e.update({"higher_is_better": higher_is_better(o), "provenance": "table",
              "source": f"{review.format} {Path(review.file).name}, analysis {o.number}"})
    if o.swap_events:
        e["note"] = "RevMan analysed non-events (swap events and non-events): events here are RevMan's non-events"
    if o.kind == "dichotomous":
        e["treatment"] = {"events": data["e1"], "total": data["n1"]}
        e["control"] = {"events": data["e2"], "total": data["n2"]}
    elif o.kind == "continuous":
        e["treatment"] = {"mean": data["m1"], "sd": data["sd1"], "n": data["n1"]}
        e["control"] = {"mean": data["m2"], "sd": data["sd2"], "n": data["n2"]}
    else:
        e["estimate"] = data["estimate"]
        e["se"] = data["se"]
        e["scale"] = "ratio" if o.measure in ("OR", "RR", "HR", "PETO") else "difference"
        for side, arm in (("n1", "treatment"), ("n2", "control")):
            if data.get(side):
                e[arm] = {"n": data[side]}
    for side, label in (("treatment", o.group_labels[0]), ("control", o.group_labels[1])):
        if label and isinstance(e.get(side), dict):
            e[side] = {"label": label, **e[side]}
    return e


def _dump(path: Path, doc, header: str = "") -> None:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    path.write_text(header + text, encoding="utf-8")


def build(review: RevmanReview, target: Path) -> dict:
    """Write the review folder into ``target`` (an empty folder); returns counts for the summary."""
    from livingmeta.commands.init import scaffold

    if not review.outcomes:
        raise ReviewInputError("not imported: the file has no analyses (no outcome data)", file=review.file,
                               hint="Add the analyses in RevMan, or start the review with `livingmeta init`.")
    scaffold(target)
    oids = outcome_ids(review)
    sids = study_ids(review)
    entries: dict[str, list[dict]] = {}
    groups: dict[str, dict] = {}
    outcomes_doc = []
    notes: list[str] = []
    for o, oid in zip(review.outcomes, oids):
        variable = f"subgroup_{oid}"[:60]
        rows_of = Counter(r.study for r in o.rows)
        labels: dict[str, set] = {}
        for r in o.rows:
            entry = _entry(review, o, oid, r.data)
            if rows_of[r.study] > 1:
                # a study in several subgroups of the analysis (a multi-arm trial's arms, doses): its rows are
                # comparisons of the one study, each in its own subgroup (docs/study-file.md)
                if not r.subgroup or r.subgroup in labels.setdefault(r.study, set()):
                    raise ReviewInputError(
                        f"not imported: analysis {o.number} '{o.name}' has study '{review.studies[r.study].name}' "
                        f"more than once {'in one subgroup' if r.subgroup else 'outside subgroups'}: livingmeta "
                        "cannot tell its comparisons apart",
                        file=review.file, hint="Combine the arms in RevMan, or split the analysis, and export again.")
                labels[r.study].add(r.subgroup)
                entry = {**{k: entry[k] for k in ("outcome", "timepoint")}, "comparison": r.subgroup,
                         "groups": {variable: r.subgroup}, **entry}
            elif r.subgroup:
                groups.setdefault(r.study, {})[variable] = r.subgroup
            entries.setdefault(r.study, []).append(entry)
        several = sorted(review.studies[k].name for k, n in rows_of.items() if n > 1)
        if several:
            notes.append(f"analysis {o.number} '{o.name}': {', '.join(several)} in several subgroups, imported as "
                         "comparisons of one study (each `comparison:` its subgroup, with its own `groups:`); "
                         "livingmeta pools them as dependent (config `dependent`), RevMan as independent rows, so "
                         "the totals can differ from RevMan's")
        d = {"id": oid, "label": o.name or oid, "higher_is_better": higher_is_better(o), "timepoints": [TIMEPOINT],
             "measure": o.measure, "method": method_of(o), "test": "z"}
        desc = "; ".join(x for x in (f"RevMan analysis {o.number}", o.comparison and f"comparison: {o.comparison}",
                                     all(o.group_labels) and f"{o.group_labels[0]} versus {o.group_labels[1]}") if x)
        d["description"] = desc
        if all(label.strip() for label in o.group_labels):  # the forest plot's "Favours Aspirin" / "Favours Control"
            d["arms"] = {"treatment": o.group_labels[0].strip(), "control": o.group_labels[1].strip()}
        if o.measure == "MD":
            d["units_harmonised"] = True   # one RevMan analysis = one scale
        outcomes_doc.append(d)
    _dump(target / "outcomes.yaml", {"outcomes": outcomes_doc},
          f"# Outcome definitions imported from {Path(review.file).name} ({review.format}): one per RevMan analysis.\n"
          "# RevMan analyses have no timepoint: each has the single timepoint 'end of study'.\n")
    n_studies = 0
    not_imported = list(review.not_imported)
    for key, s in review.studies.items():
        if key not in entries:
            not_imported.append(f"study {s.name}: included but has data in no analysis (no study file written)")
            continue
        doc = {"study": sids[key], "citation": _citation(review, key),
               "characteristics": dict(s.characteristics)}
        if key in groups:
            doc["groups"] = groups[key]
        doc["outcomes"] = entries[key]
        _dump(target / "studies" / f"{sids[key]}.yaml", doc,
              f"# Imported from {Path(review.file).name} ({review.format}), study '{s.name}'.\n")
        n_studies += 1
    n_rob = _write_rob(review, target, sids, entries, not_imported)
    subgroup_vars = [{"variable": f"subgroup_{oid}"[:60], "label": f"Subgroups of {o.name or oid}"}
                     for o, oid in zip(review.outcomes, oids) if any(r.subgroup for r in o.rows)]
    _write_config(review, target, n_rob, subgroup_vars)
    _write_review(review, target)
    with open(target / "README.md", "a", encoding="utf-8") as fh:
        fh.write(f"\n## Imported from RevMan\n\n`{Path(review.file).name}` ({review.format}): {n_studies} studies, "
                 f"{len(outcomes_doc)} analyses, {n_rob} risk-of-bias files.\n")
        if notes:
            fh.write("\nImported differently from RevMan:\n\n" + "".join(f"- {x}\n" for x in notes))
        if not_imported:
            fh.write("\nNot imported:\n\n" + "".join(f"- {x}\n" for x in not_imported))
    return {"studies": n_studies, "outcomes": len(outcomes_doc), "rob": n_rob, "not_imported": not_imported,
            "notes": notes}


def _write_rob(review, target: Path, sids, entries, not_imported) -> int:
    judged = {k: v for k, v in review.rob.items() if k in entries}
    # the workflow needs a risk-of-bias file for every included study: studies (or domains) the RevMan
    # file does not judge are written as unclear, saying so, for the reviewers to assess
    domains = review.rob_domains or list(ROB1_DOMAINS)
    if not judged:
        not_imported.append("risk of bias: no low/unclear/high judgement in the file; the risk-of-bias files "
                            "say 'unclear' with 'no judgement in the RevMan file': assess the studies")
    tool = {
        "name": "Cochrane risk of bias (RoB 1)",
        "title": "Cochrane Collaboration's tool for assessing risk of bias (domains as in the RevMan file)",
        "reference": "Higgins JPT, Altman DG, Gøtzsche PC, et al. BMJ 2011;343:d5928. doi:10.1136/bmj.d5928",
        "term": "domain",
        "judgements": [
            {"id": "low", "label": "Low risk", "fill": "#009E73", "symbol": "+", "text": "#FFFFFF"},
            {"id": "unclear", "label": "Unclear risk", "fill": "#F0E442", "symbol": "?"},
            {"id": "high", "label": "High risk", "fill": "#D55E00", "symbol": "x", "text": "#FFFFFF"},
        ],
        "default_judgement": "unclear",
        "domains": [{"id": d, "label": label or d} for d, label in domains],
        "overall": "none",
    }
    _dump(target / ROB_TOOL_FILE, tool, f"# Risk-of-bias tool of the review imported from {Path(review.file).name}.\n")
    for key in entries:
        got = judged.get(key, {})
        judgements = {}
        for d, _ in domains:
            j, support = got.get(d, ("unclear", ""))
            judgements[d] = {"judgement": j,
                          "support": support or ("no support text in the RevMan file" if d in got
                                                 else "no judgement in the RevMan file: to assess")}
        _dump(target / "risk_of_bias" / f"{sids[key]}.yaml",
              {"study": sids[key], "tool": tool["name"], "domains": judgements},
              f"# Imported from {Path(review.file).name}.\n")
    return len(entries)


def _write_config(review: RevmanReview, target: Path, n_rob: int, subgroup_vars: list[dict]) -> None:
    first = review.outcomes[0]
    path = target / "config.yaml"
    text = path.read_text(encoding="utf-8")
    subs = {"measure": first.measure, "method": method_of(first), "test": "z", "level": f"{first.level:g}"}
    if any(o.measure == "SMD" for o in review.outcomes):
        subs["smd_variance"] = "REVMAN5"
    for key, value in subs.items():
        text, n = re.subn(rf"^(  {key}:\s*)\S+", rf"\g<1>{value}", text, count=1, flags=re.M)
        if n != 1:
            raise RuntimeError(f"livingmeta's config template has no analysis.{key}")
    if subgroup_vars:   # RevMan's subgroups, one variable per analysis (other analyses: not classified)
        quoted = [yaml.safe_dump(v["label"], default_style='"').strip() for v in subgroup_vars]
        listing = "".join(f"\n    - {{variable: {v['variable']}, label: {q}}}" for v, q in zip(subgroup_vars, quoted))
        text, n = re.subn(r"^  subgroups: \[\].*$", lambda _m: "  subgroups:" + listing, text, count=1, flags=re.M)
        if n != 1:
            raise RuntimeError("livingmeta's config template has no analysis.subgroups")
    text = text.replace("# livingmeta configuration of this review.",
                        f"# livingmeta configuration of this review (analysis settings imported from "
                        f"{Path(review.file).name}; each outcome in outcomes.yaml names its own).", 1)
    if n_rob:
        text += f"\nrisk_of_bias:\n  tool: {ROB_TOOL_FILE}   # the RevMan file's risk-of-bias domains (RoB 1)\n"
    path.write_text(text, encoding="utf-8")


def _write_review(review: RevmanReview, target: Path) -> None:
    path = target / "review.yaml"
    text = path.read_text(encoding="utf-8")
    title = (review.title or Path(review.file).stem).replace('"', "'")
    text = text.replace('title: "TITLE OF YOUR REVIEW"', f'title: "{title}"', 1)
    text = text.replace('question: "The review question (population, intervention, comparator, outcomes)."',
                        f'question: "Imported from {Path(review.file).name} ({review.format}): '
                        'state the review question."', 1)
    # RevMan is Cochrane's tool for reviews of interventions in people: the report's sentences say so
    text, n = re.subn(r"^type: preclinical(\s)", r"type: clinical\1", text, count=1, flags=re.M)
    text, m = re.subn(r"^unit_of_analysis: animals(\s)", r"unit_of_analysis: participants\1", text, count=1,
                      flags=re.M)
    if n != 1 or m != 1:
        raise RuntimeError("livingmeta's review.yaml template has no type / unit_of_analysis line")
    path.write_text(text, encoding="utf-8")


def write_review_folder(review: RevmanReview, directory: str | os.PathLike) -> dict:
    """Write the folder atomically: into a temporary sibling of ``directory``, renamed when complete.
    ``directory`` must not exist or be empty."""
    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ReviewInputError("exists and is not empty", file=str(target),
                               hint="Give a new folder: the import never writes into an existing review.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.importing-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        summary = build(review, tmp)
        if target.exists():
            target.rmdir()
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary
