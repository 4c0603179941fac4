"""Per-study effect sizes: the study document of ``results/studies/studies.json`` (docs/architecture.md).

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
from livingmeta.stats.binary import zero_cell_defaults

CITATION_FIELDS = ("first_author", "year", "title", "journal", "doi", "pmid")


def _entry_effect(e, measure, smd_variance: str, zero_cells: dict) -> tuple[float | None, float | None, dict]:
    """``(yi, vi, data)`` of one outcome entry on the measure's model scale; ``data`` holds the columns of
    its data kind (metafor's names). ``yi``/``vi`` are None when the study is not estimable (no events in
    either arm for a ratio measure)."""
    import numpy as np

    from livingmeta.stats import escalc, generic_effect

    label = [f"outcomes[{e.index}]"]
    if e.kind == "generic":
        g = e.generic
        yi, vi = generic_effect(g.estimate, se=g.se, ci_lb=g.ci_lb, ci_ub=g.ci_ub, scale=g.scale,
                                where=f"outcomes[{e.index}]")
        data = {"n1i": e.treatment.n, "n2i": e.control.n, "estimate": g.estimate, "ci_lb_reported": g.ci_lb,
                "ci_ub_reported": g.ci_ub, "se_reported": g.se, "reported_scale": g.scale}
        return yi, vi, data
    if e.kind == "dichotomous":
        zc = {**zero_cell_defaults(measure.name), **{k: v for k, v in (zero_cells or {}).items() if v is not None}}
        yi, vi = escalc(measure.name, ai=[e.treatment.events], n1i=[e.treatment.total], ci=[e.control.events],
                        n2i=[e.control.total], add=zc["add"], to=zc["to"], drop00=zc["drop00"], labels=label)
        data = {"ai": e.treatment.events, "n1i": e.treatment.total, "ci": e.control.events, "n2i": e.control.total}
    else:
        kwargs = dict(m1i=[e.treatment.mean], sd1i=[e.treatment.sd_value], n1i=[e.treatment.n],
                      m2i=[e.control.mean], sd2i=[e.control.sd_value], n2i=[e.control.n], labels=label)
        if measure.name == "SMD":
            kwargs["vtype"] = smd_variance
        if measure.name == "NMD":
            kwargs["sham_mi"] = [e.sham.mean]
        yi, vi = escalc(measure.name, **kwargs)
        data = {"m1i": e.treatment.mean, "sd1i": e.treatment.sd_value, "n1i": e.treatment.n,
                "m2i": e.control.mean, "sd2i": e.control.sd_value, "n2i": e.control.n}
        if e.sham is not None:
            data.update({"msi": e.sham.mean, "sdsi": e.sham.sd_value, "nsi": e.sham.n})
        arms = [e.treatment, e.control] + ([e.sham] if e.sham is not None else [])
        if any(arm.converted for arm in arms):
            # mean and SD estimated from a median (Luo et al. 2018; Wan et al. 2014), per arm
            data["converted"] = ", ".join(name for name, arm in zip(("treatment", "control", "sham"), arms)
                                          if arm.converted)
    y, v = float(yi[0]), float(vi[0])
    if not (np.isfinite(y) and np.isfinite(v)):
        return None, None, data
    return y, v, data


def compute_effects(study: Study, outcomes: OutcomeSet, measure: str = "SMD",
                    smd_variance: str = "LS", zero_cells: dict | None = None) -> list[dict[str, Any]]:
    """One effect row per outcome entry of ``study`` (in file order).

    ``measure`` is the review's default; an outcome that names its own measure in outcomes.yaml uses
    that.  ``zero_cells``: ``{add, to, drop00}`` for dichotomous data (None values: livingmeta's
    defaults, :func:`livingmeta.stats.binary.zero_cell_defaults`)."""
    from livingmeta.extraction.studyfile import check_entry_measure
    from livingmeta.stats.measures import get

    rows = []
    for e in study.outcomes:
        m = get(outcomes[e.outcome].measure or measure)
        try:
            check_entry_measure(e, m.name, study.file)
            if m.name == "ROM" and e.kind == "continuous":
                for arm_name, arm in (("treatment", e.treatment), ("control", e.control)):
                    if arm.mean <= 0:
                        raise ReviewInputError(
                            f"the ratio of means (ROM) needs positive means (got {arm.mean!r})",
                            field=f"outcomes[{e.index}].{arm_name}.mean",
                            hint="Use measure SMD or MD for outcomes that can be zero or negative.")
            y, v, data = _entry_effect(e, m, smd_variance, zero_cells)
        except ReviewInputError as err:  # name the study file; the engine names the entry
            raise ReviewInputError(err.message, file=study.file, field=err.field, hint=err.hint) from None
        flipped = e.higher_is_better != outcomes[e.outcome].higher_is_better
        row = {
            "analysis": e.analysis,
            "outcome": e.outcome,
            "timepoint": e.timepoint,
            "measure": m.name,
            "scale": m.scale,
            "kind": e.kind,
            "yi": None if y is None else (-y if flipped else y),
            "vi": v,
            "estimable": y is not None,
        }
        # several comparisons of one outcome x timepoint (only present when the file states them)
        for key in ("comparison", "experiment", "control_group"):
            if getattr(e, key, None) is not None:
                row[key] = getattr(e, key)
        if e.groups:   # this comparison's own subgroup values (override the study's groups)
            row["groups"] = dict(e.groups)
        if e.kind == "continuous":   # the columns the report and data/ CSV always had, first
            row.update({"n1i": data["n1i"], "n2i": data["n2i"], "m1i": data["m1i"], "sd1i": data["sd1i"],
                        "m2i": data["m2i"], "sd2i": data["sd2i"]})
        row.update(data)
        stated = {"treatment": e.treatment.as_stated(), "control": e.control.as_stated()}
        if e.sham is not None:
            stated["sham"] = e.sham.as_stated()
        if e.generic is not None:
            stated["estimate"] = e.generic.as_stated()
        row.update({
            "stated": stated,
            "provenance": e.provenance,
            "source": e.source,
            "unit": e.unit,
            "higher_is_better": e.higher_is_better,
            "direction_flipped": flipped,
            "note": e.note,
        })
        rows.append(row)
    return rows


def study_document(study: Study, outcomes: OutcomeSet, measure: str = "SMD",
                   smd_variance: str = "LS", zero_cells: dict | None = None) -> dict[str, Any]:
    """The effect-size document of a validated study (one entry of ``results/studies/studies.json``)."""
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
        "effects": compute_effects(study, outcomes, measure, smd_variance, zero_cells),
        # directions of effect of outcome domains that are not pooled (synthesis without meta-analysis)
        **({"directions": [d.as_dict() for d in study.directions]} if study.directions else {}),
    }
