"""Per-study effect sizes: the document ``results/studies/<study>.json`` (docs/architecture.md).

Effect sizes come from ``livingmeta.stats.escalc`` (metafor's names and definitions: SMD is Hedges' g with
the exact small-sample correction; ``vtype`` LS | UB | AV | REVMAN5). Arms stated with a standard error
are converted first (sd = se * sqrt(n)); what the file stated is kept under ``stated``. When a study's
``higher_is_better`` differs from the outcome definition the effect's sign is flipped, so that all studies
of an analysis point the same way, and the row says ``direction_flipped: true``.
"""

from __future__ import annotations

from typing import Any

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.outcomes import OutcomeSet
from livingmeta.extraction.studyfile import Study

CITATION_FIELDS = ("first_author", "year", "title", "journal", "doi", "pmid")


def compute_effects(study: Study, outcomes: OutcomeSet, measure: str = "SMD",
                    smd_variance: str = "LS") -> list[dict[str, Any]]:
    """One effect row per outcome entry of ``study`` (in file order)."""
    if not study.outcomes:
        return []
    from livingmeta.stats import escalc

    entries = study.outcomes
    kwargs = dict(
        m1i=[e.treatment.mean for e in entries], sd1i=[e.treatment.sd_value for e in entries],
        n1i=[e.treatment.n for e in entries],
        m2i=[e.control.mean for e in entries], sd2i=[e.control.sd_value for e in entries],
        n2i=[e.control.n for e in entries],
    )
    if measure == "SMD":
        kwargs["vtype"] = smd_variance
    elif measure == "ROM":
        for e in entries:
            for arm_name, arm in (("treatment", e.treatment), ("control", e.control)):
                if arm.mean <= 0:
                    raise ReviewInputError(
                        f"the ratio of means (ROM) needs positive means (got {arm.mean!r})",
                        file=study.file, field=f"outcomes[{e.index}].{arm_name}.mean",
                        hint="Use measure SMD or MD in config.yaml for outcomes that can be zero or negative.")
    try:
        yi, vi = escalc(measure, labels=[f"outcomes[{e.index}]" for e in entries], **kwargs)
    except ReviewInputError as err:  # name the study file; the engine names the entry
        raise ReviewInputError(err.message, file=study.file, field=err.field, hint=err.hint) from None
    rows = []
    for e, y, v in zip(entries, yi, vi):
        y, v = float(y), float(v)
        flipped = e.higher_is_better != outcomes[e.outcome].higher_is_better
        rows.append({
            "analysis": e.analysis,
            "outcome": e.outcome,
            "timepoint": e.timepoint,
            "measure": measure,
            "yi": -y if flipped else y,
            "vi": v,
            "n1i": e.treatment.n,
            "n2i": e.control.n,
            "m1i": e.treatment.mean,
            "sd1i": e.treatment.sd_value,
            "m2i": e.control.mean,
            "sd2i": e.control.sd_value,
            "stated": {"treatment": e.treatment.as_stated(), "control": e.control.as_stated()},
            "provenance": e.provenance,
            "source": e.source,
            "unit": e.unit,
            "higher_is_better": e.higher_is_better,
            "direction_flipped": flipped,
            "note": e.note,
        })
    return rows


def study_document(study: Study, outcomes: OutcomeSet, measure: str = "SMD",
                   smd_variance: str = "LS") -> dict[str, Any]:
    """The ``results/studies/<study>.json`` document of a validated study."""
    citation = {key: study.citation.get(key) for key in CITATION_FIELDS}
    citation["label"] = study.label
    citation["reference"] = study.citation.get("reference")
    return {
        "study": study.id,
        "file": study.file,
        "label": study.label,
        "citation": citation,
        "country": study.country,
        "characteristics": dict(study.characteristics),
        "groups": dict(study.groups),
        "illustrative": study.illustrative,
        "notes": study.notes,
        "effects": compute_effects(study, outcomes, measure, smd_variance),
    }
