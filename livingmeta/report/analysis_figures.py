"""The figures of one analysis (forest plot, subgroup plots, funnel plot and its tests' sentences,
robvis's weighted summary), drawn once per content of what they show.

At 1,000 studies and 50 analyses drawing every analysis's figures is seconds of every report job, while an
update that adds one study changes the figures of the few analyses it reports. :class:`FigureCache` keeps
each analysis's drawn figures in the content cache (livingmeta/contentcache.py, namespace
``report-figures``), the key a digest of everything the drawing reads — the analysis's entry of
results.json, the risk-of-bias judgements of its own studies (and the tool's definition), the layout and
livingmeta's own code (:func:`livingmeta.contentcache.code_digest`) — so an entry can never be served for
different inputs.
Entries that the report did not use are removed at the end of the job (:meth:`FigureCache.prune`); the
folder may be deleted at any time. The cumulative plot is not kept: every version adds a point to every
analysis's history.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from livingmeta.contentcache import ContentCache, code_digest, digest
from livingmeta.report import svg

# risk-of-bias blocks keyed by study (restricted to an analysis's studies in the key and the drawing's input)
ROB_PER_STUDY = ("files", "overall", "per_study", "studies")
# counts over all studies: no per-analysis figure reads them (the weighted summary counts its own studies)
ROB_WHOLE_REVIEW = ("summary", "overall_summary")


def draw(a: dict, rob: dict, pages: bool, print_max_rows: int) -> dict[str, Any]:
    """The figures and figure sentences of analysis ``a`` as plain strings (JSON values)."""
    funnel = svg.funnel_plot(a)
    entry: dict[str, Any] = {
        "forest": svg.forest_plot(a, rob), "funnel": funnel,
        "egger": svg.egger_text(a) if funnel else None,
        "rank_test": svg.rank_test_text(a) if funnel else None,
        "trim_and_fill": svg.trim_and_fill_text(a) if funnel else None,
        "imputed": bool(svg.imputed_studies(a)), "subgroups": []}
    long = pages and len(a.get("studies") or []) > print_max_rows
    for sg in a.get("subgroups") or []:
        # the "not classified" part of the engine's note is shown with study labels instead
        note = "; ".join(part for part in str(sg.get("note") or "").split("; ")
                         if part and not part.startswith("not classified on"))
        analysed = bool(sg.get("analysed"))
        entry["subgroups"].append({
            "note": note or None,
            "svg": svg.subgroup_forest_plot(a, sg) if analysed else None,
            # layout pages, an analysis longer than print_max_rows: in print, the subgroups' totals only
            "print_svg": svg.subgroup_forest_plot(a, sg, study_rows=False) if long and analysed else None,
            "test": svg.subgroup_test_text(sg),
        })
    # robvis's weighted summary (each study counts with its weight; several comparisons: their summed weight)
    weights: dict = {}
    for s in a.get("studies") or []:
        if isinstance(s.get("weight"), (int, float)) and s.get("weight") > 0:
            weights[s.get("study")] = weights.get(s.get("study"), 0.0) + s["weight"]
    judged = [sid for sid in weights if sid in (rob.get("studies") or {})]
    has_rob = bool(rob.get("items")) and bool(rob.get("studies"))
    entry["rob_weighted"] = (svg.rob_summary_chart(rob, {sid: weights[sid] for sid in judged})
                             if has_rob and a.get("pooled") and judged else None)
    return entry


def rob_for(a: dict, rob: dict) -> dict:
    """What an analysis's figures read of the risk-of-bias block: its own studies' entries, the tool."""
    ids = {s.get("study") for s in a.get("studies") or []}
    out = {k: v for k, v in rob.items() if k not in ROB_WHOLE_REVIEW and k not in ROB_PER_STUDY}
    for key in ROB_PER_STUDY:
        if isinstance(rob.get(key), dict):
            out[key] = {sid: v for sid, v in rob[key].items() if sid in ids}
    # whether the review's tool has overall judgements at all (the forest plot's column), not just these studies
    out["overall_in_review"] = bool(svg._rob_overall(rob))
    return out


class FigureCache:
    """Drawn analysis figures in the content cache folder ``folder`` (None: draw every time)."""

    NAMESPACE = "report-figures"

    def __init__(self, folder: str | os.PathLike | None):
        self.cache = ContentCache(folder, self.NAMESPACE)
        self.used: set[str] = set()

    def get_or_draw(self, a: dict, rob: dict, pages: bool, print_max_rows: int) -> dict[str, Any]:
        if self.cache.root is None:
            return draw(a, rob, pages, print_max_rows)
        # the drawing reads the whole block only for its own studies and the tool, which ``shown`` carries
        shown = rob_for(a, rob)
        key = digest(code_digest(), orjson.dumps([a, shown, pages, print_max_rows],
                                             option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        self.used.add(key)
        return self.cache.get_or_make(key, lambda: draw(a, rob, pages, print_max_rows))

    def prune(self) -> None:
        """Remove the entries this report did not use."""
        self.cache.prune(self.used)
