"""The ``synthesis`` block of ``review.yaml``: how studies reported as directions of effect are grouped and
which of their characteristics are tabulated (SWiM item 1, Campbell et al. 2020, BMJ 368:l6890)::

    synthesis:
      group_by: mechanism                 # REQUIRED: a key of each study file's `groups:`
      group_label: Mechanism              # optional: its name in the report (default: group_by)
      groups:                             # optional: the groups' order and labels (default: as found)
        - {id: ecm_homeostasis, label: Homeostasis of the extracellular matrix}
      characteristics: [exosome_source, cargo, target_pathway, cell_type, model, in_vivo]
                                          # optional: keys of each study file's `characteristics:`
      map: [exosome_source, in_vivo]      # optional: characteristics of the evidence map (default: all)
      prioritisation: text                # optional: SWiM item 4 (how results were prioritised)
      certainty: text                     # optional: SWiM item 6 (how certainty was assessed)

The outcome domains themselves are defined in outcomes.yaml (``domains:``), so that a study's validation
needs only outcomes.yaml.
"""

from __future__ import annotations

import os
from typing import Any

from livingmeta.extraction.yamlio import Problems, load_yaml, type_name

KEYS = ("group_by", "group_label", "groups", "characteristics", "map", "prioritisation", "certainty")
_HINT = "Fix the `synthesis:` block of review.yaml (see docs/synthesis.md)."


def _names(problems: Problems, block: dict, key: str) -> list[str]:
    value = block.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, str) or not v.strip()
                                          for v in value):
        problems.add(f"synthesis.{key}", f"must be a list of names (got {type_name(value)})",
                     f"Write e.g. `{key}: [exosome_source, cargo]` (keys of the study files' characteristics).")
        return []
    return [v.strip() for v in value]


def parse_settings(data: Any, file: str | os.PathLike = "review.yaml") -> dict | None:
    """The validated ``synthesis`` settings of a review.yaml's content, or None when it has none."""
    if not isinstance(data, dict) or data.get("synthesis") is None:
        return None
    problems = Problems(file, _HINT)
    block = problems.mapping(data, "synthesis", "")
    if block is None:
        problems.raise_if_any()
    problems.unknown_keys(block, KEYS, "synthesis")
    group_by = problems.text(block, "group_by", "synthesis")
    group_label = problems.text(block, "group_label", "synthesis", required=False)
    groups: list[dict] = []
    raw = block.get("groups")
    if raw is not None:
        if not isinstance(raw, list):
            problems.add("synthesis.groups", f"must be a list of {{id, label}} (got {type_name(raw)})")
        else:
            for i, item in enumerate(raw):
                prefix = f"synthesis.groups[{i}]"
                if not isinstance(item, dict):
                    problems.add(prefix, f"must be a mapping {{id, label}} (got {type_name(item)})")
                    continue
                problems.unknown_keys(item, ("id", "label", "description"), prefix)
                gid = problems.text(item, "id", prefix)
                label = problems.text(item, "label", prefix, required=False)
                if gid is not None:
                    if any(g["id"] == gid for g in groups):
                        problems.add(f"{prefix}.id", f"duplicate group '{gid}'", "List each group once.")
                    else:
                        groups.append({"id": gid, "label": label or gid,
                                       "description": item.get("description")})
    characteristics = _names(problems, block, "characteristics")
    map_ = _names(problems, block, "map")
    for name in map_:
        if characteristics and name not in characteristics:
            problems.add("synthesis.map", f"'{name}' is not one of synthesis.characteristics",
                         f"Map only tabulated characteristics: {', '.join(characteristics)}.")
    texts = {k: problems.text(block, k, "synthesis", required=False) for k in ("prioritisation", "certainty")}
    problems.raise_if_any()
    return {"group_by": group_by, "group_label": group_label or group_by, "groups": groups,
            "characteristics": characteristics, "map": map_ or list(characteristics), **texts}


def load_settings(path: str | os.PathLike) -> dict | None:
    """The ``synthesis`` settings of review.yaml (None without the block or without the file)."""
    if not os.path.isfile(path):
        return None
    return parse_settings(load_yaml(path, what="review protocol"), path)
