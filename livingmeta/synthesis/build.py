"""The ``synthesis`` document: synthesis without meta-analysis of the outcome domains reported as directions of
effect (SWiM, Campbell et al. 2020, BMJ 368:l6890), written by the synthesis job to
results/synthesis/synthesis.json and copied by the report job into results.json's ``synthesis`` block.

Per group (the review's ``synthesis.group_by``): the structured evidence table (each study's tabulated
characteristics and direction per domain), the effect direction plot's data (Thomson and Thomas 2013, Res
Synth Methods 4:95: rows = studies, columns = outcome domains, an arrow per direction, its size from the
sample size, its shade from the risk of bias, which the report adds from results.json's risk_of_bias), and
the vote counts per domain and over the study (``livingmeta.synthesis.vote``). Across groups: the evidence
map (groups x values of each mapped characteristic, number of studies per cell) and a paragraph stating
what was synthesised and how (SWiM items 1-9).
"""

from __future__ import annotations

from typing import Any

from livingmeta.errors import ReviewInputError
from livingmeta.synthesis.vote import overall_direction, vote

NOT_REPORTED = "not reported"
DIRECTION_LABELS = {"benefit": "benefit", "harm": "harm", "no_clear_difference": "no clear difference",
                    "mixed": "mixed or conflicting"}


def size_class(n: int | None) -> str:
    """Thomson and Thomas (2013)'s arrow sizes: large (n >= 300), medium (50-299), small (< 50), or unknown."""
    if n is None:
        return "unknown"
    return "large" if n >= 300 else "medium" if n >= 50 else "small"


def _sample_size(doc: dict) -> int | None:
    sizes = [d["n"] for d in doc.get("directions") or [] if isinstance(d.get("n"), int)]
    if sizes:
        return max(sizes)
    n = (doc.get("characteristics") or {}).get("n_animals")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return NOT_REPORTED
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def build_synthesis(study_docs: list[dict], settings: dict, domains: list[dict], level: float = 95.0) -> dict:
    """The synthesis document from the per-study documents (results/studies/studies.json) that have
    ``directions``, the review's synthesis settings (``livingmeta.synthesis.settings``) and the outcome
    domains ({id, label} in outcomes.yaml's order)."""
    group_by = settings["group_by"]
    docs = [d for d in study_docs if d.get("directions")]
    declared = {g["id"]: g for g in settings.get("groups") or []}
    members: dict[str, list[dict]] = {gid: [] for gid in declared}
    for doc in sorted(docs, key=lambda d: (str(d.get("label") or d["study"]).lower(), d["study"])):
        value = (doc.get("groups") or {}).get(group_by)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ReviewInputError(
                f"a study with direction-of-effect entries has no `{group_by}` group", file=doc.get("file"),
                field=f"groups.{group_by}",
                hint=f"Add `groups: {{{group_by}: ...}}` (review.yaml's synthesis.group_by) to the study file"
                     + (f"; one of {', '.join(declared)}." if declared else "."))
        value = str(value)
        if declared and value not in declared:
            raise ReviewInputError(f"unknown {group_by} group '{value}'", file=doc.get("file"),
                                   field=f"groups.{group_by}",
                                   hint=f"Use one of review.yaml's synthesis.groups: {', '.join(declared)} "
                                        "(or add the group there).")
        members.setdefault(value, []).append(doc)
    used_domains = {d["domain"] for doc in docs for d in doc["directions"]}
    domain_list = [dict(d) for d in domains if d["id"] in used_domains]
    characteristics = list(settings.get("characteristics") or [])

    groups = []
    for gid, group_docs in members.items():
        info = declared.get(gid, {"id": gid, "label": gid})
        rows = []
        for doc in group_docs:
            cells = {d["domain"]: {k: d.get(k) for k in ("direction", "provenance", "source", "note", "n")}
                     for d in doc["directions"]}
            n = _sample_size(doc)
            rows.append({
                "study": doc["study"], "label": doc.get("label") or doc["study"], "file": doc.get("file"),
                "characteristics": {c: _text((doc.get("characteristics") or {}).get(c)) for c in characteristics},
                "directions": cells, "n": n, "size": size_class(n),
                "overall": overall_direction([c["direction"] for c in cells.values()]),
                "sources": sorted({c["source"] for c in cells.values() if c.get("source")}),
                "illustrative": bool(doc.get("illustrative")),
            })
        group_domains = [d["id"] for d in domain_list if any(d["id"] in r["directions"] for r in rows)]
        votes = {dom: vote([r["directions"][dom]["direction"] for r in rows if dom in r["directions"]], level)
                 for dom in group_domains}
        groups.append({"id": gid, "label": info.get("label") or gid, "description": info.get("description"),
                       "k": len(rows), "studies": rows, "domains": group_domains, "votes": votes,
                       "overall_vote": vote([r["overall"] for r in rows], level)})

    evidence_map = []
    for char in settings.get("map") or characteristics:
        values: dict[str, int] = {}
        for g in groups:
            for r in g["studies"]:
                v = r["characteristics"].get(char) if char in characteristics else NOT_REPORTED
                values[v] = values.get(v, 0) + 1
        order = sorted(values, key=lambda v: (v == NOT_REPORTED, -values[v], v.lower()))
        counts = {g["id"]: {v: sum(1 for r in g["studies"] if r["characteristics"].get(char) == v) for v in order}
                  for g in groups}
        evidence_map.append({"characteristic": char, "values": order, "counts": counts, "totals": values})

    document = {
        "group_by": group_by, "group_label": settings.get("group_label") or group_by,
        "characteristics": characteristics, "domains": domain_list, "level": level,
        "k": len(docs), "groups": groups, "evidence_map": evidence_map,
        "overall_vote": vote([r["overall"] for g in groups for r in g["studies"]], level),
        "settings": {k: settings.get(k) for k in ("prioritisation", "certainty")},
    }
    document["text"] = synthesis_text(document)
    return document


def synthesis_text(doc: dict) -> dict:
    """The paragraphs stating what was synthesised and how, item by item of SWiM (Campbell et al. 2020):
    {methods: [...], results: [...]}."""
    groups = doc["groups"]
    gl = doc["group_label"].lower()
    domains = ", ".join(d["label"] for d in doc["domains"]) or "none"
    level = f"{doc['level']:g}%"
    methods = [
        f"Synthesis without meta-analysis (SWiM; Campbell et al. 2020). Item 1, grouping: the {doc['k']} "
        f"{'study' if doc['k'] == 1 else 'studies'} reporting outcome domains without data that could be pooled "
        f"were grouped by {gl} ({_plural(len(groups), 'group')}: "
        f"{'; '.join(g['label'] + ' (' + str(g['k']) + ')' for g in groups)}), as declared in review.yaml.",
        f"Item 2, standardised metric: the direction of effect per outcome domain ({domains}), as each study "
        "reports it (benefit, harm, no clear difference, or mixed when results within a domain conflict); "
        "no effect sizes were available.",
        "Item 3, synthesis method: vote counting based on the direction of effect (Cochrane Handbook 12.2.2.5), "
        "never on statistical significance; the proportion of beneficial effects among studies with a "
        f"direction is given with its exact Clopper-Pearson {level} confidence interval and tested against "
        "one half with the two-sided exact binomial (sign) test. Studies with no clear difference or mixed "
        "results are counted but do not vote. A study's overall direction is benefit (or harm) when every "
        "domain with a direction points that way, otherwise mixed.",
        "Item 4, prioritisation: " + (doc["settings"].get("prioritisation") or
                                      "no domain or study was prioritised; every reported direction is shown."),
        "Item 5, heterogeneity: investigated informally, by tabulating the studies' characteristics ("
        + (", ".join(c.replace("_", " ") for c in doc["characteristics"]) or "none declared")
        + ") within each group and in the evidence map.",
        "Item 6, certainty: " + (doc["settings"].get("certainty") or
                                 "the certainty of this evidence was not graded; the direction of effect "
                                 "says nothing about its size."),
        "Item 7, presentation: per group a structured evidence table, an effect direction plot (Thomson and "
        "Thomas 2013; arrow size from the sample size where known, shade from the overall risk of bias where "
        "assessed) and the vote counts; across groups an evidence map of the number of studies per group and "
        "characteristic.",
    ]
    results = []
    for g in groups:
        v = g["overall_vote"]
        if v["voting"]:
            share = (f"{v['benefit']} of {v['voting']} studies with a direction showed benefit "
                     f"(proportion {v['proportion']:.2f}, {level} CI {v['ci_lb']:.2f} to {v['ci_ub']:.2f}; "
                     f"sign test {_p(v['sign_test_p'])})")
        else:
            share = "no study had a direction of effect to vote"
        extra = [f"{v[d]} {DIRECTION_LABELS[d]}" for d in ("no_clear_difference", "mixed") if v[d]]
        results.append(f"{g['label']}: {_plural(g['k'], 'study', 'studies')}; {share}"
                       + (f"; {', '.join(extra)}" if extra else "") + ".")
    limitations = ("Item 9, limitations: vote counting ignores the size and precision of effects and weights a "
                   "small study as a large one; directions were taken as the studies or a narrative source "
                   "state them, so an outcome measured but not reported is missed (selective reporting); "
                   "the sign test answers only whether benefit is more frequent than harm.")
    return {"methods": methods, "results": ["Item 8, results: " + results[0]] + results[1:] if results else [],
            "limitations": limitations}


def _p(p: float | None) -> str:
    if p is None:
        return "NA"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def load_and_build(study_docs: list[dict], settings: dict, outcomes_path: str, level: float = 95.0) -> dict:
    """The synthesis job: the study documents (``livingmeta.extraction.documents.study_documents``),
    review.yaml's settings and outcomes.yaml's domains."""
    from livingmeta.extraction.outcomes import load_outcomes

    outcomes = load_outcomes(outcomes_path)
    domains = [{"id": d.id, "label": d.label, "description": d.description} for d in outcomes.domains.values()]
    return build_synthesis(list(study_docs), settings, domains, level)
