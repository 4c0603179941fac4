"""Render the HTML report from results.json (and nothing else), with Jinja2 and the SVG figures of
:mod:`livingmeta.report.svg`.

The page is self-contained: the stylesheet is inlined and every figure is inline SVG, so the HTML opens
offline and WeasyPrint never needs to fetch anything. Rendering is deterministic: the same results.json
gives byte-identical HTML.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from livingmeta.living.changes import excludes_null
from livingmeta.plan import slug
from livingmeta.report import fmt, layout, lsr, svg, swim_view, wording

TEMPLATES = Path(__file__).resolve().parent / "templates"

CHARACTERISTIC_LABELS = {
    "species": "Species", "strain": "Strain", "sex": "Sex", "gender": "Sex", "age": "Age", "weight": "Weight",
    "n_animals": "Animals (n)", "n_participants": "Participants (n)", "model": "Disease model", "exosome_source": "Exosome source",
    "exosome_diameter": "Exosome diameter", "hydrogel": "Hydrogel", "hydrogel_thickness": "Hydrogel thickness",
    "route": "Route", "dose": "Dose", "frequency": "Frequency", "duration": "Duration",
}
# the study file's characteristics, grouped as a preclinical review's Table 1 (animals and model) and
# Table 2 (intervention); any other keys follow in alphabetical order
CHARACTERISTIC_GROUPS = (
    ("{population}", ("species", "strain", "sex", "gender", "age", "weight", "n_animals", "model")),
    ("intervention", ("exosome_source", "exosome_diameter", "hydrogel", "hydrogel_thickness", "route", "dose",
                      "frequency", "duration")),
)
COLUMNS_PER_TABLE = 8
# in the layout in pages, the printed subgroup forest plots of an analysis with more studies than this show the
# subgroups' totals only (each study's row is in the analysis's own forest plot, which is split over pages)
PRINT_MAX_ROWS = 60
# ... and its leave-one-out table, in print, the omissions that move the pooled estimate most (and those that
# change whether the CI includes the null, up to as many): the whole table is on screen and in results.json
LOO_PRINT_ROWS = 10


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(fmt.FILTERS)
    env.filters["inline_code"] = inline_code
    env.filters["path_breaks"] = path_breaks
    env.filters["slug"] = slug  # subgroup figures' ids, fig-subgroups-<analysis>-<variable slug>, name their files
    # values of an analysis as the reader sees them: ratio measures back-transformed (exp of the model's logs)
    env.filters["eff"] = lambda obj, a, est="estimate", lb="ci_lb", ub="ci_ub": svg.shown_est_ci(
        a, (obj or {}).get(est), (obj or {}).get(lb), (obj or {}).get(ub))
    env.filters["shownum"] = lambda x, a: fmt.num(svg.shown(a, x))
    env.filters["showci"] = lambda lb, ub, a: fmt.ci(svg.shown(a, lb), svg.shown(a, ub))
    env.filters["mshort"] = lambda a: svg.MEASURE_SHORT.get(a.get("measure"), a.get("measure") or "Effect")
    env.filters["null_value"] = lambda a: "1" if svg.is_ratio(a) else "0"
    env.filters["arm"] = wording.in_sentence
    env.filters["group_of"] = group_of
    return env


def group_of(study: dict, variable: str):
    """A study's value of a subgroup variable for the classification table: its own, else the values its
    comparisons carry (entry-level ``groups:``, e.g. ``low; high`` for two doses), else None."""
    own = (study.get("groups") or {}).get(variable)
    if own not in (None, ""):
        return own
    values = [str(e["groups"][variable]) for e in study.get("effects") or []
              if isinstance(e.get("groups"), dict) and e["groups"].get(variable) not in (None, "")]
    return "; ".join(dict.fromkeys(values)) or None


def _markup(text: str):
    import markupsafe

    return markupsafe.Markup(text)


def path_breaks(text) -> "markupsafe.Markup":
    """Escape a file path and allow line breaks after its slashes (<wbr>)."""
    import markupsafe

    escaped = str(markupsafe.escape(text if text is not None else ""))
    return markupsafe.Markup(escaped.replace("/", "/<wbr>"))


def inline_code(text) -> "markupsafe.Markup":
    """Escape ``text`` and show `backticked` spans (as review.yaml writes field names) as <code>."""
    import re

    import markupsafe

    escaped = str(markupsafe.escape(text if text is not None else ""))
    return markupsafe.Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


def characteristic_tables(studies: list[dict], population: str = "animals and disease model") -> list[dict]:
    """Study characteristics as tables: ``population`` (e.g. "animals and disease model", "participants
    and condition"), intervention, then any other keys (alphabetical, at most ``COLUMNS_PER_TABLE``
    columns per table)."""
    present: list[str] = []
    for study in studies:
        for key in study.get("characteristics") or {}:
            if key not in present:
                present.append(key)
    grouped: list[tuple[str, list[str]]] = []
    used: set[str] = set()
    for title, keys in CHARACTERISTIC_GROUPS:
        chosen = [k for k in keys if k in present]
        used.update(chosen)
        if chosen:
            grouped.append((title.format(population=population), chosen))
    rest = sorted(k for k in present if k not in used)
    for i in range(0, len(rest), COLUMNS_PER_TABLE):
        grouped.append(("other characteristics", rest[i:i + COLUMNS_PER_TABLE]))
    tables = []
    for n, (title, chunk) in enumerate(grouped):
        columns = [{"key": k, "label": CHARACTERISTIC_LABELS.get(k, fmt.humanise(k))} for k in chunk]
        rows = []
        for study in studies:
            chars = study.get("characteristics") or {}
            rows.append({"study": study, "cells": [fmt.value(chars.get(k)) for k in chunk]})
        tables.append({"title": title, "columns": columns, "rows": rows, "with_country": n == 0})
    return tables


CERTAINTY_SYMBOLS = {"high": "\u2295\u2295\u2295\u2295", "moderate": "\u2295\u2295\u2295\u25ef",
                     "low": "\u2295\u2295\u25ef\u25ef", "very low": "\u2295\u25ef\u25ef\u25ef"}


def summary_of_findings(analyses: list[dict], summary: list[dict]) -> dict:
    """GRADEpro-style summary-of-findings rows for the analyses with a ``certainty`` block, and the
    footnotes (one per downgraded domain, lettered in table order) that give each downgrade's reason."""
    from livingmeta.certainty.grade import DOMAIN_LABELS

    rows, notes = [], []
    for a, srow in zip(analyses, summary):
        c = a.get("certainty")
        if not c:
            continue
        marks = []
        for name in DOMAIN_LABELS:   # GRADE's order (results.json keeps keys sorted)
            d = c["domains"].get(name) or {}
            if d.get("downgrade"):
                letter = chr(ord("a") + len(notes) % 26) * (1 + len(notes) // 26)   # a..z, aa..zz, ...
                origin = "reviewers" if d["decided"] else "proposed from the data"
                notes.append({"mark": letter, "text": f"{DOMAIN_LABELS[name]}, \u2212{d['downgrade']} "
                                                      f"({origin}): {d['reason'].rstrip('.')}"})
                marks.append(letter)
        n = None if srow["n1"] is None or srow["n2"] is None else srow["n1"] + srow["n2"]
        rows.append({"a": a, "c": c, "n": n, "k_studies": srow["k_studies"], "marks": marks,
                     "symbols": CERTAINTY_SYMBOLS[c["rating"]]})
    return {"rows": rows, "notes": notes}


def _grade_domains() -> dict[str, str]:
    from livingmeta.certainty.grade import DOMAIN_LABELS

    return dict(DOMAIN_LABELS)


def _summary_rows(analyses: list[dict]) -> list[dict]:
    """Per analysis: its subjects per arm (a shared control counted once: the analysis's ``structure`` when
    it has studies with several comparisons) and its number of studies (not comparisons)."""
    rows = []
    for a in analyses:
        n1 = [s.get("n1i") for s in a["studies"]]
        n2 = [s.get("n2i") for s in a["studies"]]
        structure = a.get("structure") or {}
        row = {
            "a": a,
            "n1": sum(n1) if n1 and all(isinstance(x, (int, float)) for x in n1) else None,
            "n2": sum(n2) if n2 and all(isinstance(x, (int, float)) for x in n2) else None,
            "k_studies": len({s.get("study") for s in a["studies"]}),
            "k_comparisons": len(a["studies"]),
            "single": None if a["pooled"] or not a["studies"] else a["studies"][0],
        }
        if structure:
            row["n1"], row["n2"] = structure.get("n1i"), structure.get("n2i")
        rows.append(row)
    return rows


def _effect_rows(study: dict, labels: dict[str, str]) -> list[dict]:
    keys = ("analysis", "outcome", "timepoint", "yi", "vi", "n1i", "n2i", "m1i", "sd1i", "m2i", "sd2i", "stated",
            "provenance", "source", "unit", "note", "direction_flipped", "kind", "measure", "ai", "ci", "estimate",
            "ci_lb_reported", "ci_ub_reported", "se_reported", "reported_scale", "msi", "sdsi", "nsi")
    rows = []
    for raw in study.get("effects") or []:
        effect = {key: raw.get(key) for key in keys}
        effect["stated"] = effect["stated"] or {}
        rows.append({"effect": effect,
                     "analysis_label": labels.get(effect.get("analysis"),
                                                  f"{fmt.humanise(effect.get('outcome') or '')}, "
                                                  f"{effect.get('timepoint')}")})
    return rows


def _rob_rows(rob: dict, judgements: dict) -> list[dict]:
    rows = []
    for n, item in enumerate(rob.get("items") or [], 1):
        entry = (judgements or {}).get(item.get("id")) or {}
        if entry:
            rows.append({"item": f"D{n}", "item_label": item.get("label") or item.get("id"),
                         "judgement": entry.get("judgement") or "not assessed",
                         "support": entry.get("support") or ""})
    return rows


def appendix_studies(studies: list[dict], analyses: list[dict], rob: dict) -> list[dict]:
    """The appendix, one entry per study (the way RevMan prints its per-study tables): every number
    that entered an analysis, with provenance, and the risk-of-bias judgements with their support.
    Each study starts on a new page in the PDF, so that adding or correcting a study re-renders that
    study's pages only."""
    labels = {a.get("analysis"): f"{a.get('label')}, {a.get('timepoint')}" for a in analyses}
    judged = rob.get("studies") or {}
    entries = [{"study": s, "effects": _effect_rows(s, labels), "rob": _rob_rows(rob, judged.get(s["study"]))}
               for s in studies]
    known = {s["study"] for s in studies}
    entries += [{"study": {"study": sid, "label": sid}, "effects": [], "rob": _rob_rows(rob, judged[sid])}
                for sid in judged if sid not in known]
    return [e for e in entries if e["effects"] or e["rob"]]


STATUS_TEXT = {"new": "new analysis", "removed": "no longer reported", "changed": "updated", "unchanged": "unchanged"}
RECORD_LABELS = (
    ("records_screened", "Records screened (new searches)"),
    ("records_excluded", "Records excluded at title/abstract"),
    ("reports_assessed", "Reports assessed for eligibility"),
    ("new_studies", "New studies included"),
    ("total_studies", "Studies included in total"),
)


def _delta(previous: Any, current: Any) -> str:
    if isinstance(previous, bool) or isinstance(current, bool):
        return "—"
    if not isinstance(previous, (int, float)) or not isinstance(current, (int, float)):
        return "—"
    diff = current - previous
    if diff == 0:
        return "0"
    return ("+" if diff > 0 else fmt.MINUS) + fmt.integer(abs(diff))


def changes_view(results: dict) -> dict | None:
    """The "What changed since version X" section: studies added/corrected/removed (with labels), the
    record counts with their change, and one row per analysis (previous vs this version)."""
    changes = results.get("what_changed")
    if not isinstance(changes, dict):
        return None
    previous = changes.get("previous_version")
    labels = {s.get("study"): s.get("label") or s.get("study") for s in results.get("studies") or []}
    analyses = {a.get("analysis"): a for a in results.get("analyses") or []}

    def named(ids):
        return [labels.get(s, s) for s in ids or []]

    rows = []
    for row in changes.get("analyses") or []:
        a = analyses.get(row.get("analysis")) or {}
        rows.append({
            **row,
            "label": a.get("label") or fmt.humanise(row.get("outcome") or row.get("analysis") or ""),
            "anchor": row.get("analysis") if a else None,
            "status_text": STATUS_TEXT.get(row.get("status"), row.get("status")),
            "previous": row.get("previous") or {},
            "current": row.get("current") or {},
        })
    records = changes.get("records") or {}
    record_rows = [{"label": label, "previous": (records.get(key) or {}).get("previous"),
                    "current": (records.get(key) or {}).get("current"),
                    "delta": _delta((records.get(key) or {}).get("previous"), (records.get(key) or {}).get("current"))}
                   for key, label in RECORD_LABELS if key in records]
    return {
        "previous_version": previous,
        "first": previous is None,
        "added": named(changes.get("studies_added")),
        "corrected": named(changes.get("studies_corrected")),
        "removed": list(changes.get("studies_removed") or []),
        "records": record_rows,
        "analyses": rows,
        "conclusion_changes": [r for r in rows if r.get("conclusion_changed")],
        "n_changed": sum(1 for r in rows if r.get("status") != "unchanged"),
    }


def loo_print(a: dict, pages: bool) -> dict | None:
    """In the layout in pages, an analysis with more than :data:`PRINT_MAX_ROWS` omissions: the rows of its
    leave-one-out table that the PDF prints (a study's omission moving the pooled estimate most, then those
    changing whether the CI includes the null), most influential first; None: the whole table."""
    rows = [r for r in a.get("leave_one_out") or [] if isinstance(r, dict)]
    if not pages or len(rows) <= PRINT_MAX_ROWS or not isinstance(a.get("estimate"), (int, float)):
        return None

    def moved(r: dict) -> float:
        return abs(r["estimate"] - a["estimate"]) if isinstance(r.get("estimate"), (int, float)) else -1.0

    order = sorted(range(len(rows)), key=lambda i: -moved(rows[i]))
    pooled = excludes_null(a)
    flips = [i for i in order if pooled is not None and excludes_null(rows[i]) not in (None, pooled)]
    shown = order[:LOO_PRINT_ROWS] + [i for i in flips if i not in order[:LOO_PRINT_ROWS]][:LOO_PRINT_ROWS]
    return {"rows": [rows[i] for i in sorted(shown, key=order.index)], "k": len(rows), "flips": len(flips)}


def build_view(results: dict, pages: bool = False, cache_dir: str | None = None) -> dict[str, Any]:
    """Everything the template needs beyond results.json itself: figures (SVG), tables, anchors.
    ``pages``: the layout in pages (livingmeta/report/layout.py): the study-level material is the appendix.
    ``cache_dir``: a content cache folder (results/.cache): each analysis's figures are drawn once per content
    (livingmeta/report/analysis_figures.py)."""
    from livingmeta.report.analysis_figures import FigureCache

    studies = results.get("studies") or []
    labels = {s["study"]: s.get("label") or s["study"] for s in studies}
    analyses = results.get("analyses") or []
    rob = results.get("risk_of_bias") or {}
    figures = {"analyses": {}}
    drawn = FigureCache(cache_dir)
    for a in analyses:
        points = (results.get("history") or {}).get(a.get("analysis"))
        plain = drawn.get_or_draw(a, rob, pages, PRINT_MAX_ROWS)
        entry = {key: (_markup(plain[key]) if plain[key] else None) for key in ("forest", "funnel", "rob_weighted")}
        cumulative = svg.cumulative_plot(a, points or [])  # not kept: every version adds a point
        entry["cumulative"] = _markup(cumulative) if cumulative else None
        entry.update({key: plain[key] for key in ("egger", "rank_test", "trim_and_fill", "imputed")})
        entry["subgroups"] = [{"sg": sg, "note": part["note"], "test": part["test"],
                               "svg": _markup(part["svg"]) if part["svg"] else None,
                               "print_svg": _markup(part["print_svg"]) if part["print_svg"] else None}
                              for sg, part in zip(a.get("subgroups") or [], plain["subgroups"])]
        figures["analyses"][a.get("analysis")] = entry
    drawn.prune()
    # the cumulative plots sit in the front matter's "what changed" section, which changes with every
    # version anyway, so that an analysis's own section (and its cached PDF part) does not
    cumulative_ids = [k for k, e in figures["analyses"].items() if e["cumulative"]]
    figures["prisma"] = _markup(svg.prisma_flow(results.get("prisma") or {}))
    has_rob = bool(rob.get("items")) and bool(rob.get("studies"))
    figures["rob_traffic"] = _markup(svg.rob_traffic_light(rob, labels)) if has_rob and not pages else None
    if has_rob and pages:  # in blocks of studies, each a PDF part of the appendix (layout.study_blocks)
        order = list(rob.get("studies") or {})
        blocks = layout.study_blocks(order)
        figures["rob_traffic"] = _markup("".join(
            (f"<!--pdf-part appendix-rob-{order[b['start']]}-->" if b["start"] else "")
            + svg.rob_traffic_block(rob, labels, order[b["start"]:b["end"]], last=n == len(blocks) - 1)
            for n, b in enumerate(blocks)))
    figures["rob_summary"] = _markup(svg.rob_summary_chart(rob)) if has_rob else None
    subgroup_vars = (results.get("methods") or {}).get("subgroups") or []
    illustrative_notice = next((n for n in results.get("notices") or [] if n.get("kind") == "illustrative"), None)
    return {
        "figures": figures,
        "cumulative_ids": cumulative_ids,
        "changes": changes_view(results),
        "labels": labels,
        "characteristics": characteristic_tables(studies, wording.report_words(results.get("review"))["population"]),
        "subgroup_vars": subgroup_vars,
        "summary": _summary_rows(analyses),
        "sof": summary_of_findings(analyses, _summary_rows(analyses)),
        "grade_domains": _grade_domains(),
        "lsr_checklist": lsr.checklist(results),
        "appendix": appendix_studies(studies, analyses, rob if has_rob else {}),
        "illustrative_notice": illustrative_notice,
        "consistency_notices": [n for n in results.get("notices") or [] if n.get("kind") in ("consistency", "records")],
        "words": wording.report_words(results.get("review")),
        "arms": {a.get("analysis"): wording.arm_names(a.get("arms"), (results.get("review") or {}).get("arms"))
                 for a in analyses},
        "loo_print": {a.get("analysis"): loo_print(a, pages) for a in analyses},
        "favours": {a.get("analysis"): svg.favours_labels(a.get("higher_is_better"), a.get("arms")) for a in analyses},
        "heterogeneity": {a.get("analysis"): svg.heterogeneity_text(a) for a in analyses},
        "overall_test": {a.get("analysis"): svg.overall_test_text(a) for a in analyses},
        "source_name": svg.source_name,
        "measure_short": svg.MEASURE_SHORT.get((results.get("methods") or {}).get("measure"), "Effect"),
        "mixed_measures": len({a.get("measure") for a in analyses}) > 1,
        "any_ratio": any(svg.is_ratio(a) for a in analyses),
        "analysis_by_id": {a.get("analysis"): a for a in analyses},
        "css": _markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        "swim": swim_view.swim_view(results),
        "pages": pages,
        "study_blocks": layout.study_blocks([s["study"] for s in studies]) if pages else [],
    }


def render_html(results: dict, pages: bool = False, cache_dir: str | None = None) -> str:
    """The report as one HTML document; ``pages``: laid out for pages (livingmeta/report/layout.py), with
    the study-level material as an appendix at the end, which livingmeta/report/pages.py cuts into the
    summary page and pages of their own, and livingmeta/report/pdf.py prints as a document of its own."""
    template = _environment().get_template("report.html.j2")
    return template.render(r=results, v=build_view(results, pages, cache_dir))
