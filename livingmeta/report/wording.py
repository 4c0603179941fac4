"""The review's own words for its people and its arms, so every generated sentence, header and caption fits
a clinical review as well as a preclinical one.

``review.yaml`` may say::

    type: clinical                      # preclinical | clinical (default: neither; neutral wording)
    unit_of_analysis: participants      # a plural noun: animals, participants, eyes, patients, ...
    arms: {treatment: Exercise, control: Usual care}   # review-wide names of the compared arms

and an outcome in ``outcomes.yaml`` may override the arms (``arms: {treatment: ..., control: ...}``), so its
forest plot says "Favours exercise" / "Favours usual care".

The unit follows the type when it is not given: animals for a preclinical review, participants for a
clinical one, and "subjects" (true of both) when the review does not say which it is. Arms default to
"treatment" and "control".
"""

from __future__ import annotations

from typing import Any

REVIEW_TYPES = ("preclinical", "clinical")
DEFAULT_UNIT = {"preclinical": "animals", "clinical": "participants", None: "subjects"}
DEFAULT_ARMS = {"treatment": "treatment", "control": "control"}


def _text(value: Any) -> str | None:
    return str(value).strip() if isinstance(value, (str, int, float)) and str(value).strip() else None


def arm_names(arms: Any, default: dict[str, str] | None = None) -> dict[str, str]:
    """``{treatment, control}`` from an ``arms`` mapping, each missing name taken from ``default``."""
    out = dict(default or DEFAULT_ARMS)
    if isinstance(arms, dict):
        for key in ("treatment", "control"):
            if _text(arms.get(key)):
                out[key] = _text(arms.get(key))
    return out


def review_wording(review: dict | None) -> dict[str, Any]:
    """``{type, unit, arms}`` of review.yaml (validated by :func:`livingmeta.extraction.review.parse_review`)."""
    review = review or {}
    kind = str(review.get("type")).strip().lower() if review.get("type") else None
    kind = kind if kind in REVIEW_TYPES else None
    unit = _text(review.get("unit_of_analysis")) or DEFAULT_UNIT[kind]
    return {"type": kind, "unit": unit, "arms": arm_names(review.get("arms"))}


def in_sentence(name: str) -> str:
    """An arm's name inside a sentence: "Usual care" -> "usual care", but "MSC-Exos" and "IL-1ra" stay."""
    if len(name) > 1 and name[0].isupper() and name[1].islower() and not any(c.isupper() for c in name[1:]):
        return name[0].lower() + name[1:]
    return name


def favours_labels(higher_is_better: bool | None, arms: dict[str, str] | None = None) -> tuple[str, str]:
    """(left, right) labels under a forest plot's axis; effects are treatment minus (or over) control, so
    the right side is where the treatment arm's values are higher."""
    arms = arm_names(arms)
    treatment, control = in_sentence(arms["treatment"]), in_sentence(arms["control"])
    if higher_is_better is True:
        return f"Favours {control}", f"Favours {treatment}"
    if higher_is_better is False:
        return f"Favours {treatment}", f"Favours {control}"
    return f"Lower with {treatment}", f"Higher with {treatment}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def report_words(review_block: dict | None) -> dict[str, str]:
    """The words the report's template uses, from results.json's ``review`` block: ``unit`` / ``Unit`` (the
    unit of analysis, plural), ``treatment`` / ``control`` (in a sentence) and ``Treatment`` / ``Control``
    (as a heading), ``population`` (the title of the study characteristics' first table)."""
    block = review_block or {}
    unit = _text(block.get("unit_of_analysis")) or DEFAULT_UNIT[None]
    arms = arm_names(block.get("arms"))
    population = f"{unit} and disease model" if block.get("type") == "preclinical" else f"{unit} and condition"
    return {"unit": unit, "Unit": _capitalised(unit), "population": population,
            "treatment": in_sentence(arms["treatment"]), "control": in_sentence(arms["control"]),
            "Treatment": _capitalised(arms["treatment"]), "Control": _capitalised(arms["control"])}
