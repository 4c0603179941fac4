"""The tables of synthesis without meta-analysis as CSV files of the report's ``data/`` folder, from
results.json's ``synthesis`` block alone (written with livingmeta.report.data, listed in data/index.csv):

``synthesis_evidence.csv``
    one row per study and group: ``group, study, label``, the tabulated characteristics, then one column
    per outcome domain with the study's direction (benefit, harm, no_clear_difference, mixed; empty: not
    reported), ``overall`` (the study's direction over its domains), ``n`` (sample size when known).
``synthesis_votes.csv``
    one row per group and domain (domain ``overall`` = the studies' overall directions): ``group, domain,
    k, benefit, harm, no_clear_difference, mixed, voting, proportion, ci_lb, ci_ub, level, sign_test_p``
    (Clopper-Pearson interval; exact two-sided sign test, as R's ``binom.test(benefit, voting)``).
``synthesis_map.csv``
    the evidence map: ``characteristic, group, value, studies``.
"""

from __future__ import annotations

from livingmeta.report import indexed
from livingmeta.report.data import cell

VOTE_COLUMNS = ("group", "domain", "k", "benefit", "harm", "no_clear_difference", "mixed", "voting", "proportion",
                "ci_lb", "ci_ub", "level", "sign_test_p")


def synthesis_files(results: dict) -> dict[str, tuple[str, str]]:
    """file name -> (description, CSV text); empty without a synthesis block."""
    block = results.get("synthesis")
    if not block or not block.get("groups"):
        return {}
    chars = list(block.get("characteristics") or [])
    domains = [d["id"] for d in block.get("domains") or []]
    evidence = []
    votes = []
    for g in block["groups"]:
        for s in g.get("studies") or []:
            evidence.append([g["id"], s["study"], s.get("label") or s["study"],
                             *[cell(s["characteristics"].get(c)) for c in chars],
                             *[cell(((s.get("directions") or {}).get(d) or {}).get("direction")) for d in domains],
                             s.get("overall") or "", cell(s.get("n"))])
        for dom, v in [*((d, g["votes"][d]) for d in g.get("domains") or []), ("overall", g["overall_vote"])]:
            votes.append([g["id"], dom, *[cell(v.get(c)) for c in VOTE_COLUMNS[2:]]])
    mapped = [[m["characteristic"], gid, value, cell(n)] for m in block.get("evidence_map") or []
              for gid, cells in (m.get("counts") or {}).items() for value, n in cells.items()]
    return {
        "synthesis_evidence.csv": ("Synthesis without meta-analysis: one row per study, its characteristics and "
                                   "direction of effect per outcome domain",
                                   indexed.csv_text(["group", "study", "label", *chars, *domains, "overall", "n"],
                                                    evidence)),
        "synthesis_votes.csv": ("Synthesis without meta-analysis: vote counts per group and domain, proportion of "
                                "beneficial effects (Clopper-Pearson CI) and sign test", indexed.csv_text(VOTE_COLUMNS, votes)),
        "synthesis_map.csv": ("Synthesis without meta-analysis: the evidence map, studies per group and "
                              "characteristic value", indexed.csv_text(["characteristic", "group", "value", "studies"],
                                                                       mapped)),
    }
