"""Assemble results.json, the machine-readable twin of the report.

Everything the report shows comes from this one document (the HTML is a pure render of it), so the two
can never disagree. Keys follow docs/architecture.md; the required ones are listed in
:data:`REQUIRED_ANALYSIS_KEYS` and :data:`REQUIRED_PRISMA_KEYS` and checked by the tests.

Reproducibility: ``generated_at`` and the version date come from ``SOURCE_DATE_EPOCH`` when it is set
(else the current UTC time); the version gets a ``.2``, ``.3`` ... suffix when ``<reports_dir>/<date>``
already holds a published version. Software versions are read with ``importlib.metadata`` (no imports).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
from datetime import datetime
from typing import Any, Iterable

from livingmeta.analyses import study_label
from livingmeta.living.changes import history, what_changed
from livingmeta.living.versions import build_time, next_version, published_versions
from livingmeta.report import fmt, lsr, wording
from livingmeta.report.methods import build_methods

FORMAT_VERSION = 1
SOFTWARE = ("livingmeta", "snakemake", "numpy", "scipy", "jinja2", "weasyprint")

REQUIRED_PRISMA_KEYS = (
    "previous_studies", "identified", "duplicates_removed", "records_screened", "records_excluded",
    "reports_sought", "reports_not_retrieved", "reports_assessed", "reports_excluded", "new_studies",
    "total_studies",
)
REQUIRED_ANALYSIS_KEYS = (
    "outcome", "timepoint", "measure", "method", "test", "k", "estimate", "se", "ci_lb", "ci_ub", "pval",
    "tau2", "I2", "Q", "Q_pval", "pi_lb", "pi_ub", "studies", "subgroups", "leave_one_out",
)
POOLED_KEYS = (
    "analysis", "outcome", "timepoint", "label", "unit_note", "higher_is_better", "measure", "method", "test",
    "level", "k", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "tau2_ci_lb", "tau2_ci_ub", "I2",
    "I2_ci_lb", "I2_ci_ub", "H2", "Q", "Q_df", "Q_pval", "pi_lb", "pi_ub", "scale",
)
# per-study data columns by data kind (metafor's names), copied from pooled.json / the study's effect row
STUDY_KIND_KEYS = ("kind", "estimable", "ai", "ci", "msi", "sdsi", "nsi", "estimate", "ci_lb_reported",
                   "ci_ub_reported", "se_reported", "reported_scale", "direction_flipped", "converted")
# the Mantel-Haenszel analysis's tests for 2x2 tables (metafor rma.mh(), odds ratio)
MH_TEST_KEYS = ("MH", "MH_pval", "CO", "CO_pval", "BD", "BD_pval", "TA", "TA_pval", "k_yi", "zero_cells")
# several comparisons per study (livingmeta.comparisons): how they were pooled and the multilevel model's
# variance components, copied only when pooled.json has them
MULTILEVEL_KEYS = ("dependent", "structure", "model", "random", "sigma2", "sigma2_levels", "n_levels", "I2_levels",
                   "QE", "QE_df", "QE_pval", "dfs", "shared_control", "robust")
COMPARISON_KEYS = ("comparison", "experiment", "control_group", "combined_from", "n2i_before_split")
DEFAULT_NOTICE = ("Some results rest on illustrative numbers (values not taken from the source studies). "
                  "They demonstrate the workflow and must not be cited as evidence.")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# study keys derived from the other studies (a letter suffix when two share a label), not from the study
# file: left out when versions are compared, so adding "Liu 2023" does not "correct" the other one
STUDY_DERIVED_KEYS = ("label",)
# keys of a study's effects that the measure table derives (not stated by the study file), left out when
# versions are compared, so that a version written before they existed does not "correct" every study
EFFECT_DERIVED_KEYS = ("scale", "kind", "estimable")


# ---------------------------------------------------------------------------------------------------
# small pieces


def software_versions() -> dict[str, str | None]:
    """Versions of Python and the packages that produce the report (metadata only, nothing imported)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def iso8601(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def disambiguate_labels(labels: dict[str, str]) -> dict[str, str]:
    """Give studies that share a label (two "Liu 2023") a letter suffix, in study-id order."""
    by_label: dict[str, list[str]] = {}
    for study in sorted(labels):
        by_label.setdefault(labels[study], []).append(study)
    out = dict(labels)
    for label, studies in by_label.items():
        if len(studies) > 1:
            for i, study in enumerate(studies):
                out[study] = f"{label}{chr(ord('a') + i)}"
    return out


def citation_text(cit: Any) -> str | None:
    """One line for a citation given as text or as ``{authors|first_author, year, title, journal, doi}``."""
    if cit is None or cit == "":
        return None
    if isinstance(cit, str):
        return cit.strip()
    if not isinstance(cit, dict):
        return str(cit)
    authors = cit.get("authors")
    if isinstance(authors, list):
        authors = ", ".join(str(a) for a in authors)
    authors = authors or (f"{cit['first_author']} et al." if cit.get("first_author") else None)
    parts = [p for p in (authors, f"({cit['year']})" if cit.get("year") else None) if p]
    text = " ".join(parts)
    for key in ("title", "journal"):
        if cit.get(key):
            text = f"{text}. {str(cit[key]).rstrip('.')}" if text else str(cit[key]).rstrip(".")
    text = text + "." if text else ""
    if cit.get("doi"):
        text += f" doi:{cit['doi']}"
    if cit.get("pmid"):
        text += f" PMID {cit['pmid']}"
    return text.strip() or None


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    return [str(v) for v in value]


def _pico(pico: Any) -> list[dict]:
    """PICO as ``[{element, text}]`` (lists and nested mappings flattened to text)."""
    if not isinstance(pico, dict):
        return []
    out = []
    for key, value in pico.items():
        if isinstance(value, dict):
            text = "; ".join(f"{k}: {', '.join(_strings(v))}" for k, v in value.items())
        else:
            text = ", ".join(_strings(value))
        out.append({"element": fmt.humanise(key), "text": text})
    return out


def review_block(raw: dict | None, config: dict | None = None) -> dict:
    """The ``review`` block: the protocol fields of review.yaml, normalised for the report."""
    raw = dict(raw or {})
    config = config or {}
    title = ((config.get("report") or {}).get("title") or raw.get("title") or "Untitled review")
    search = raw.get("search") if isinstance(raw.get("search"), dict) else {}
    databases = search.get("databases") or raw.get("databases") or []
    strategy = search.get("strategy") or raw.get("search_strategy") or raw.get("strategy")
    eligibility = raw.get("eligibility") if isinstance(raw.get("eligibility"), dict) else {}
    published = raw.get("published_review") if isinstance(raw.get("published_review"), dict) else {}
    registration = raw.get("registration")
    registration_url = raw.get("registration_url")
    if isinstance(registration, dict):
        registration_url = registration.get("url")
        registration = " ".join(str(registration[k]) for k in ("registry", "id") if registration.get(k)) or None
    if registration and not registration_url:
        match = re.search(r"CRD\d{8,}", str(registration))
        if match:
            registration_url = f"https://www.crd.york.ac.uk/PROSPERO/view/{match.group(0)}"
    words = wording.review_wording(raw)
    return {
        "title": str(title),
        "short_title": raw.get("short_title"),
        "type": words["type"],
        "living": lsr.living_block(raw),
        "unit_of_analysis": words["unit"],
        "arms": words["arms"],
        "question": raw.get("question"),
        "registration": registration,
        "registration_url": registration_url,
        "authors": _strings(raw.get("authors")),
        "citation": raw.get("citation"),
        "citation_text": citation_text(raw.get("citation")),
        "notice": raw.get("notice"),
        "pico": _pico(raw.get("pico")),
        "reporting_guideline": raw.get("reporting_guideline"),
        "source_doi": published.get("doi"),
        "eligibility": {
            "inclusion": _strings(eligibility.get("inclusion") or raw.get("inclusion")),
            "exclusion": _strings(eligibility.get("exclusion") or raw.get("exclusion")),
        },
        "search": {
            "databases": _strings(databases),
            "strategy": strategy if isinstance(strategy, dict) else (str(strategy) if strategy else None),
            "limits": search.get("limits"),
            "other_methods": _strings(search.get("other_methods")),
            "notes": search.get("notes"),
        },
    }


def search_dates(exports: Iterable[dict] | None, prisma_searches: Any = None) -> list[dict]:
    """Per source, the dates of its export files (files are named by search date): from prisma.json's
    ``searches.exports`` ({source: [names]}), or from a list of ``{source, name}``."""
    from livingmeta.report.svg import source_name

    items = list(exports or [])
    if not items and isinstance(prisma_searches, dict):
        for source, names in (prisma_searches.get("exports") or {}).items():
            items += [{"source": source, "name": n} for n in names or []]
    by_source: dict[str, list[str]] = {}
    for item in items:
        source = str(item.get("source"))
        name = str(item.get("name") or item.get("date") or "")
        by_source.setdefault(source, [])
        if name and name not in by_source[source]:
            by_source[source].append(name)
    out = []
    for source in sorted(by_source):
        names = sorted(by_source[source])
        dates = [n for n in names if DATE_RE.match(n)]
        out.append({"source": source, "source_name": source_name(source), "exports": names,
                    "first": dates[0] if dates else None, "last": dates[-1] if dates else None})
    return out


def _num(x: Any) -> Any:
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


# ---------------------------------------------------------------------------------------------------
# analyses


def _effect_of(study_doc: dict | None, analysis: str, comparison: str | None = None) -> dict:
    for effect in (study_doc or {}).get("effects") or []:
        if effect.get("analysis") == analysis and (comparison is None or effect.get("comparison") == comparison):
            return effect
    return {}


def _test_statistic(pooled: dict, k: int) -> dict:
    """The test of the overall effect: ``t`` on ``ddf`` df with Knapp–Hartung (metafor's ``zval`` holds
    the t value then), else ``z``; metafor switches to z for k = 1."""
    ddf = next((pooled[key] for key in ("ddf", "df") if _num(pooled.get(key)) is not None), None)
    knha = pooled.get("test") in ("knha", "t") and k >= 2
    if knha and ddf is None:
        ddf = k - 1
    value = next((pooled[key] for key in ("tval", "zval", "stat") if _num(pooled.get(key)) is not None), None)
    est, se = _num(pooled.get("estimate")), _num(pooled.get("se"))
    if value is None and est is not None and se:
        value = est / se
    return {"name": "t" if knha else "z", "value": value, "df": ddf if knha else None}


def _exp(item: dict, measure, keys=("estimate", "ci_lb", "ci_ub")) -> dict:
    """Back-transformed ``<key>_exp`` values for a ratio measure (model scale: logs); nothing otherwise."""
    if measure is not None and measure.ratio:
        for key in keys:
            item[f"{key}_exp"] = measure.display(item.get(key))
    return item


def _measure_of(pooled: dict):
    from livingmeta.stats.measures import MEASURES

    return MEASURES.get(str(pooled.get("measure") or "SMD").upper())


def assemble_analysis(pooled: dict, subgroups: dict | None, loo: dict | None, studies_by_id: dict[str, dict],
                      labels: dict[str, str]) -> dict:
    aid = pooled.get("analysis")
    measure = _measure_of(pooled)
    out: dict[str, Any] = {key: pooled.get(key) for key in POOLED_KEYS}
    out["scale"] = out["scale"] or (measure.scale if measure else "raw")
    _exp(out, measure, ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"))
    out["kinds"] = list(pooled.get("kinds") or ["continuous"])
    for key in MH_TEST_KEYS + MULTILEVEL_KEYS:
        if key in pooled:
            out[key] = pooled[key]
    if not out["label"]:
        out["label"] = fmt.humanise(pooled.get("outcome") or aid or "")
    rows = []
    for row in pooled.get("studies") or []:
        study = row.get("study")
        doc = studies_by_id.get(study) or {}
        effect = _effect_of(doc, aid, row.get("comparison"))
        label = labels.get(study) or row.get("label") or study
        rows.append({
            "study": study,
            "label": f"{label} \u2014 {row['comparison']}" if row.get("comparison") else label,
            "yi": row.get("yi"), "vi": row.get("vi"),
            "ci_lb": row.get("ci_lb"), "ci_ub": row.get("ci_ub"),
            "weight": row.get("weight"),
            "n1i": row.get("n1i", effect.get("n1i")), "n2i": row.get("n2i", effect.get("n2i")),
            # arms as pooled (a study's comparisons combined: the combined arms), else the study's effect row
            "m1i": row.get("m1i", effect.get("m1i")), "sd1i": row.get("sd1i", effect.get("sd1i")),
            "m2i": row.get("m2i", effect.get("m2i")), "sd2i": row.get("sd2i", effect.get("sd2i")),
            "unit": effect.get("unit"),
            "provenance": row.get("provenance") or effect.get("provenance"),
            "source": effect.get("source"),
            "file": doc.get("file"),
        })
        for key in STUDY_KIND_KEYS:
            value = row.get(key, effect.get(key))
            if value is not None:
                rows[-1][key] = value
        for key in COMPARISON_KEYS:
            if row.get(key) is not None:
                rows[-1][key] = row[key]
        rows[-1].setdefault("kind", "continuous")
        rows[-1].setdefault("estimable", rows[-1]["yi"] is not None)
        if "estimate" in rows[-1]:   # a precomputed estimate as reported keeps its own key
            rows[-1]["estimate_reported"] = rows[-1].pop("estimate")
        _exp(rows[-1], measure, ("yi", "ci_lb", "ci_ub"))
    k = pooled.get("k") if isinstance(pooled.get("k"), int) else len(rows)
    out["k"] = k
    out["studies"] = rows
    out["pooled"] = bool(k >= 2 and _num(pooled.get("estimate")) is not None)
    out["stat"] = _test_statistic(pooled, k)
    out["warnings"] = [str(w) for w in pooled.get("warnings") or []]
    out["illustrative"] = bool(pooled.get("illustrative")) or any(r["provenance"] == "illustrative" for r in rows)

    sub_doc = subgroups or {}
    tau2_model = sub_doc.get("tau2_model")
    out["subgroup_tau2_model"] = tau2_model
    out["subgroups"] = []
    for sg in sub_doc.get("subgroups") or []:
        levels = [{
            "level": str(level.get("level")),
            "k": level.get("k"),
            "estimate": level.get("estimate"), "se": level.get("se"),
            "ci_lb": level.get("ci_lb"), "ci_ub": level.get("ci_ub"),
            "tau2": level.get("tau2"), "I2": level.get("I2"),
            "studies": [str(s) for s in level.get("studies") or []],
            # a study with comparisons in several subgroups: [study, comparison] of each row of this one
            **({"comparisons": [[str(s), c] for s, c in level["comparisons"]]} if level.get("comparisons") else {}),
        } for level in sg.get("levels") or []]
        levels = [_exp(level, measure) for level in levels]
        out["subgroups"].append({
            "variable": sg.get("variable"),
            "label": sg.get("label") or fmt.humanise(sg.get("variable") or ""),
            "levels": levels,
            "Q_between": sg.get("Q_between"),
            "Q_between_df": sg.get("Q_between_df"),
            "Q_between_pval": sg.get("Q_between_pval"),
            **{key: sg[key] for key in ("Q_between_test", "Q_between_df2") if key in sg},
            "tau2_model": tau2_model,
            "analysed": len(levels) >= 2,
            "note": sg.get("note"),
            "studies_without_level": [str(s) for s in sg.get("studies_without_level") or []],
        })
    loo_doc = loo or {}
    out["leave_one_out"] = [{
        "omitted": item.get("omitted"),
        "omitted_label": labels.get(item.get("omitted")) or item.get("omitted"),
        "k": item.get("k"),
        "estimate": item.get("estimate"), "ci_lb": item.get("ci_lb"), "ci_ub": item.get("ci_ub"),
        "pval": item.get("pval"), "tau2": item.get("tau2"), "I2": item.get("I2"),
    } for item in loo_doc.get("leave_one_out") or []]
    out["leave_one_out"] = [_exp(item, measure) for item in out["leave_one_out"]]
    out["leave_one_out_note"] = loo_doc.get("note")
    sens = loo_doc.get("rob_sensitivity")
    out["rob_sensitivity"] = _exp(dict(sens), measure) if sens else None
    out["small_study"] = pooled.get("small_study")
    return out


# ---------------------------------------------------------------------------------------------------
# earlier versions: what changed, history


def published_documents(reports_dir: str | os.PathLike, version: str | None = None) -> list[dict]:
    """results.json of the published versions under ``reports_dir``, oldest first (unreadable ones are
    skipped; a document without a version gets its folder's name). With ``version`` (the version being
    built), only the newest ones down to the first that is not ``version`` and has a ``history`` block:
    what :func:`living_blocks` needs (changes.history starts from that block), whatever the number of
    versions."""
    from pathlib import Path

    from livingmeta.jsonio import read_json

    docs = []
    names = published_versions(reports_dir)
    for name in reversed(names) if version is not None else names:
        path = Path(reports_dir) / name / "results.json"
        try:
            doc = read_json(path)
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            doc.setdefault("version", name)
            docs.append(doc)
            if version is not None and doc["version"] != version and isinstance(doc.get("history"), dict):
                break
    return docs if version is None else docs[::-1]


def _comparable(doc: dict) -> dict:
    """``doc`` with the study entries reduced to what their study files state (see STUDY_DERIVED_KEYS)."""
    out = dict(doc)
    out["studies"] = [{k: (_effects_comparable(v) if k == "effects" else v) for k, v in study.items()
                       if k not in STUDY_DERIVED_KEYS}
                      for study in doc.get("studies") or [] if isinstance(study, dict)]
    return out


def _effects_comparable(effects: Any) -> Any:
    if not isinstance(effects, list):
        return effects
    return [{k: v for k, v in e.items() if k not in EFFECT_DERIVED_KEYS} if isinstance(e, dict) else e
            for e in effects]


def living_blocks(current: dict, published: list[dict]) -> dict:
    """``what_changed`` (against the newest published version whose name differs from ``current``'s;
    ``previous_version`` is null for the first version) and ``history`` (every published version, then
    ``current``) for results.json."""
    version = current.get("version")
    previous = next((doc for doc in reversed(published) if doc.get("version") != version), None)
    changes = what_changed(_comparable(previous) if previous is not None else None, _comparable(current))
    changes["triggers"] = lsr.triggers(changes, previous, current)   # PRISMA-LSR: what triggered this version
    earlier = [doc for doc in published if doc.get("version") != version]
    return {"what_changed": changes, "history": history(earlier, current)}


# ---------------------------------------------------------------------------------------------------
# the whole document


# at most this many problems are quoted per export file in the report; results.json's prisma block has all
RECORD_PROBLEMS_SHOWN = 5


def record_notices(problems: list[dict]) -> list[dict]:
    """One notice per export file whose records the parser could not read cleanly (bytes that are not
    UTF-8, damaged or cut records): the reader sees that the counts rest on a damaged export."""
    by_file: dict[str, list[dict]] = {}
    for problem in problems:
        by_file.setdefault(str(problem.get("file") or "an export"), []).append(problem)
    notices = []
    for file, items in by_file.items():
        quoted = "; ".join(
            (f"record {p['record']}: " if p.get("record") is not None else "") + str(p.get("message") or "").rstrip(".")
            for p in items[:RECORD_PROBLEMS_SHOWN])
        more = f"; and {len(items) - RECORD_PROBLEMS_SHOWN} more" if len(items) > RECORD_PROBLEMS_SHOWN else ""
        notices.append({"kind": "records", "analyses": [], "studies": [],
                        "text": f"{file}: {len(items)} problem(s) reading this export: {quoted}{more}."})
    return notices


def build_results(*, prisma: dict, studies: list[dict], rob: dict | None, pooled: list[dict],
                  subgroups: list[dict], leave_one_out: list[dict], review: dict | None, config: dict,
                  reports_dir: str | os.PathLike, exports: Iterable[dict] | None = None,
                  when: datetime | None = None, software: dict | None = None,
                  published: list[dict] | None = None, certainty: list[dict] | None = None) -> dict:
    """results.json as a dict. Analyses keep the order of ``pooled`` (the protocol's order).

    ``published``: the results.json documents of the published versions, oldest first (default: read from
    ``reports_dir``); they give ``what_changed`` and ``history``. ``certainty``: the reviewers' GRADE
    decisions (``livingmeta.certainty.decisions.load_decisions``); each pooled analysis gets a
    ``certainty`` block (the proposal from the data, the decisions and the rating)."""
    when = when or build_time()
    software = software or software_versions()
    prisma = dict(prisma or {})
    review_out = review_block(review, config)

    raw_labels = {doc["study"]: study_label(doc) for doc in studies}
    labels = disambiguate_labels(raw_labels)
    studies_by_id = {doc["study"]: doc for doc in studies}
    study_list = []
    for doc in sorted(studies, key=lambda d: d["study"]):
        item = {key: doc.get(key) for key in ("study", "file", "citation", "country", "characteristics", "groups",
                                              "illustrative", "effects")}
        item["label"] = labels[doc["study"]]
        item["citation_text"] = citation_text(doc.get("citation"))
        item["illustrative"] = bool(doc.get("illustrative")) or any(
            e.get("provenance") == "illustrative" for e in doc.get("effects") or [])
        item["characteristics"] = item["characteristics"] or {}
        item["groups"] = item["groups"] or {}
        item["effects"] = item["effects"] or []
        study_list.append(item)

    sub_by_id = {d.get("analysis"): d for d in subgroups or []}
    loo_by_id = {d.get("analysis"): d for d in leave_one_out or []}
    analyses = [assemble_analysis(p, sub_by_id.get(p.get("analysis")), loo_by_id.get(p.get("analysis")),
                                  studies_by_id, labels) for p in pooled]
    for a, p in zip(analyses, pooled):
        a["arms"] = wording.arm_names(p.get("arms"), review_out["arms"])

    prisma_out = {key: prisma.get(key) for key in REQUIRED_PRISMA_KEYS}
    prisma_out["identified"] = dict(prisma.get("identified") or {})
    prisma_out["reports_excluded"] = dict(prisma.get("reports_excluded") or {})
    for key, value in prisma.items():
        if key not in prisma_out:
            prisma_out[key] = value

    illustrative_analyses = [a["analysis"] for a in analyses if a["illustrative"]]
    illustrative_studies = [s["study"] for s in study_list if s["illustrative"]]
    illustrative = bool(illustrative_analyses or illustrative_studies)
    notices = []
    if illustrative:
        notices.append({
            "kind": "illustrative",
            "text": review_out.get("notice") or DEFAULT_NOTICE,
            "analyses": illustrative_analyses,
            "studies": illustrative_studies,
        })
    total = prisma_out.get("total_studies")
    if isinstance(total, int) and total != len(study_list):
        notices.append({
            "kind": "consistency",
            "text": (f"The PRISMA flow counts {total} included {'study' if total == 1 else 'studies'}, but the "
                     f"review folder has {len(study_list)} study {'file' if len(study_list) == 1 else 'files'}. "
                     "Check the screening decisions (and previous_version.yaml) against the study files."),
            "analyses": [], "studies": []})
    for a in analyses:
        for warning in a["warnings"]:
            notices.append({"kind": "warning", "text": warning, "analyses": [a["analysis"]], "studies": []})
    notices += record_notices(prisma_out.get("record_problems") or [])

    rob_out = dict(rob or {})
    config = config or {}
    add_certainty(analyses, rob_out, certainty or [], config, review_out["unit_of_analysis"])
    doc = {
        "format_version": FORMAT_VERSION,
        "review": review_out,
        "version": next_version(reports_dir, when),
        "generated_at": iso8601(when),
        "software": software,
        "methods": build_methods(config, software, agreement=prisma.get("agreement"), rob_tool=rob_out.get("tool"),
                                 small_study_assessed=any((a["small_study"] or {}).get("assessed") for a in analyses),
                                 analyses=analyses, rob=rob_out, unit=review_out["unit_of_analysis"],
                                 stopping=prisma.get("stopping")),
        "searches": search_dates(exports, prisma.get("searches")),
        "prisma": prisma_out,
        "studies": study_list,
        "risk_of_bias": rob_out,
        "analyses": analyses,
        "illustrative_data": illustrative,
        "notices": notices,
    }
    living_text = lsr.methods_text(review_out["living"])
    if living_text:
        doc["methods"]["text"].insert(-2, {"heading": "Living mode", "text": living_text})
    if published is None:
        published = published_documents(reports_dir, doc.get("version"))
    doc.update(living_blocks(doc, published))
    return doc


def add_certainty(analyses: list[dict], rob: dict, decisions: list[dict], config: dict,
                  unit: str = "participants") -> None:
    """Each pooled analysis's GRADE ``certainty`` block (None for an analysis that was not pooled)."""
    from livingmeta.certainty.decisions import assess
    from livingmeta.certainty.grade import absolute_effect

    settings = config.get("certainty") or {}
    mids = settings.get("mid") or {}
    for a in analyses:
        measure = _measure_of(a)
        a["certainty"] = assess(a, rob, decisions, ratio=bool(measure and measure.ratio), mid=mids.get(a.get("outcome")),
                                ois=settings.get("ois"), unit=unit) if a.get("pooled") else None
        if a["certainty"] is not None:
            a["certainty"]["absolute"] = absolute_effect(a, a.get("measure"))


def load_and_build(*, prisma_path: str, study_paths: Iterable[str] = (), rob_path: str | None,
                   pooled_paths: Iterable[str], subgroups_paths: Iterable[str], loo_paths: Iterable[str],
                   review_path: str | None, config: dict, reports_dir: str, exports: Iterable[dict] | None = None,
                   when: datetime | None = None, certainty_path: str | None = None,
                   synthesis_path: str | None = None, studies_path: str | None = None) -> dict:
    """Read the intermediate files named in docs/architecture.md and build results.json. The study
    documents come from ``studies_path`` (results/studies/studies.json) and/or ``study_paths`` (one JSON
    document per study)."""
    from livingmeta.certainty.decisions import load_decisions
    from livingmeta.jsonio import read_json

    review = None
    if review_path and os.path.exists(review_path):
        from livingmeta.yamlsafe import safe_load

        with open(review_path, encoding="utf-8") as handle:
            review = safe_load(handle) or {}
    doc = build_results(
        prisma=read_json(prisma_path),
        studies=(read_json(studies_path)["studies"] if studies_path else []) + [read_json(p) for p in study_paths],
        rob=read_json(rob_path) if rob_path and os.path.exists(rob_path) else None,
        pooled=[read_json(p) for p in pooled_paths],
        subgroups=[read_json(p) for p in subgroups_paths],
        leave_one_out=[read_json(p) for p in loo_paths],
        review=review, config=config, reports_dir=reports_dir, exports=exports, when=when,
        certainty=load_decisions(certainty_path))
    doc["report_code"] = report_code_digest()
    if synthesis_path:  # synthesis without meta-analysis (results/synthesis/synthesis.json, docs/synthesis.md)
        doc["synthesis"] = read_json(synthesis_path)
        from livingmeta.report.methods import add_synthesis_methods

        add_synthesis_methods(doc["methods"], doc["synthesis"])
    return doc


def report_code_digest() -> str:
    """A digest of the code and templates that render the report (the report job's code inputs): a new
    rendering (wording, layout) is a change a reader sees, so it is part of what publish compares,
    while an input edit that changes no result (a comment in a study file) is not."""
    import hashlib
    from pathlib import Path

    here = Path(__file__).resolve().parent
    certainty = here.parent / "certainty"
    files = sorted([*here.glob("*.py"), *(here / "templates").glob("*"), *certainty.glob("*.py")],
                   key=lambda p: (p.parent.name, p.name))
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
