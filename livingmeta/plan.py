"""Parse-time scan of a review folder: which export files, studies and analyses there are.

The Snakefile calls this to decide the job graph, so it only does cheap reads (directory listings and a
plain YAML read of each study file that changed since the last run: ``livingmeta.plancache``). It never
raises on a malformed study file: the planning-time checks (``livingmeta.preflight``) report it with a
clear message, and the file contributes no analyses meanwhile.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from livingmeta.yamlsafe import safe_load

EXPORT_EXTENSIONS = ("ris", "nbib", "txt", "xml", "bib", "csv")
STUDY_EXTENSIONS = ("yaml", "yml")
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SLUG.sub("_", str(text).strip().lower()).strip("_")


def analysis_id(outcome: str, timepoint: str) -> str:
    """The id of an outcome x timepoint analysis, e.g. ``dhi__4_weeks``."""
    return f"{slug(outcome)}__{slug(timepoint)}"


@dataclass
class ExportFile:
    source: str
    name: str
    ext: str
    path: str


@dataclass
class Analysis:
    id: str
    outcome: str
    timepoint: str
    label: str
    higher_is_better: bool | None = None
    studies: list[str] = field(default_factory=list)
    measure: str | None = None          # the outcome's own measure/method/test (None: the config's)
    method: str | None = None
    test: str | None = None
    units_harmonised: bool = False
    arms: dict | None = None            # the outcome's names of the compared arms ({treatment, control})
    dependent: str | None = None        # the outcome's way to pool several comparisons per study (None: config's)
    several: bool = False               # some study reports several comparisons of this analysis
    robust: bool | None = None          # the outcome's CR2 cluster-robust test of a multilevel fit (None: config's)

    def model(self, analysis_config: dict) -> dict:
        """The config's ``analysis`` block with this outcome's overrides (measure, method, test)."""
        out = dict(analysis_config)
        for key in ("measure", "method", "test"):
            value = getattr(self, key)
            if value:
                out[key] = value.upper() if key != "test" else value
        out["units_harmonised"] = bool(self.units_harmonised)
        if self.dependent:
            out["dependent"] = self.dependent
        if self.robust is not None:
            out["robust"] = self.robust
        return out


@dataclass
class ReviewPlan:
    exports: list[ExportFile]
    studies: dict[str, str]           # study id -> study file path
    rob_files: dict[str, str]         # study id -> risk-of-bias file path
    analyses: dict[str, Analysis]     # analysis id -> Analysis (only those with >= 1 study)
    screening_files: list[str]
    # studies with at least one direction-only entry (synthesis without meta-analysis), in file order
    synthesis_studies: list[str] = field(default_factory=list)
    # of those, the studies with directions only (no numeric entry): a risk-of-bias file is optional for them
    direction_only_studies: list[str] = field(default_factory=list)

    def export(self, source: str, name: str) -> ExportFile:
        for item in self.exports:
            if item.source == source and item.name == name:
                return item
        raise KeyError(f"{source}/{name}")


def _safe_yaml(path: Path):
    try:
        with open(path, encoding="utf-8") as handle:
            return safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def scan_exports(searches_dir: Path) -> list[ExportFile]:
    found = []
    if not searches_dir.is_dir():
        return found
    for source_dir in sorted(p for p in searches_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(source_dir.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                stem, dot, ext = path.name.rpartition(".")
                if dot and ext.lower() in EXPORT_EXTENSIONS:
                    found.append(ExportFile(source_dir.name, stem, ext, str(path)))
    return found


def _files_by_stem(folder: Path, extensions) -> dict[str, str]:
    out: dict[str, str] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            stem, dot, ext = path.name.rpartition(".")
            if path.is_file() and dot and ext.lower() in extensions and not path.name.startswith((".", "_")):
                out.setdefault(stem, str(path))
    return out


def outcome_definitions(outcomes_yaml) -> dict[str, dict]:
    """Outcome definitions from ``outcomes.yaml`` (a list, or a mapping with an ``outcomes`` list)."""
    if isinstance(outcomes_yaml, dict):
        outcomes_yaml = outcomes_yaml.get("outcomes")
    outcomes = {}
    for item in outcomes_yaml or []:
        if isinstance(item, dict) and item.get("id"):
            outcomes[str(item["id"])] = item
    return outcomes


def _arms(value) -> dict | None:
    """An outcome's ``arms`` names ({treatment, control}, text only), or None."""
    if not isinstance(value, dict):
        return None
    out = {k: str(value[k]).strip() for k in ("treatment", "control")
           if isinstance(value.get(k), str) and value[k].strip()}
    return out or None


def study_summary(data) -> dict | None:
    """What planning needs of a study file's YAML: its entries as ``[analysis id, direction only]``."""
    if not isinstance(data, dict):
        return None
    entries = [e for e in data.get("outcomes") or [] if isinstance(e, dict)]
    return {"entries": [[analysis_id(e.get("outcome", ""), e.get("timepoint", "")), "direction" in e]
                        for e in entries]}


def scan_review(review_dir: str | os.PathLike, cache=None) -> ReviewPlan:
    """The plan of a review folder. ``cache``: a ``livingmeta.plancache.PlanCache``; a study file unchanged
    since the last run is not read again."""
    review_dir = Path(review_dir)
    outcomes = outcome_definitions(_safe_yaml(review_dir / "outcomes.yaml"))
    studies = _files_by_stem(review_dir / "studies", STUDY_EXTENSIONS)
    rob_files = _files_by_stem(review_dir / "risk_of_bias", STUDY_EXTENSIONS)

    analyses: dict[str, Analysis] = {}
    # declared order first, so the report lists analyses as the protocol does
    for oid, definition in outcomes.items():
        for timepoint in definition.get("timepoints") or []:
            aid = analysis_id(oid, timepoint)
            analyses[aid] = Analysis(aid, oid, str(timepoint), str(definition.get("label", oid)),
                                     definition.get("higher_is_better"), [],
                                     *(str(definition[k]) if isinstance(definition.get(k), str) else None
                                       for k in ("measure", "method", "test")),
                                     definition.get("units_harmonised") is True,
                                     _arms(definition.get("arms")),
                                     definition.get("dependent") if isinstance(definition.get("dependent"), str)
                                     else None)
            if isinstance(definition.get("robust"), bool):
                analyses[aid].robust = definition["robust"]
    synthesis_studies: list[str] = []
    direction_only: list[str] = []
    for study, path in studies.items():
        summary = cache.summary(path) if cache is not None else None
        if summary is None:
            summary = study_summary(_safe_yaml(Path(path)))
            if cache is not None and summary is not None:
                cache.set_summary(path, summary)
        if summary is None:
            continue
        entries = summary["entries"]
        if entries and all(direction for _, direction in entries):
            direction_only.append(study)
        for aid, direction in entries:
            if direction:  # a direction of effect only: never a pooled analysis
                if study not in synthesis_studies:
                    synthesis_studies.append(study)
                continue
            if aid in analyses and study not in analyses[aid].studies:
                analyses[aid].studies.append(study)
            elif aid in analyses:
                analyses[aid].several = True
    analyses = {aid: a for aid, a in analyses.items() if a.studies}

    screening_dir = review_dir / "screening"
    screening_files = sorted(str(p) for p in screening_dir.glob("*.csv")) if screening_dir.is_dir() else []
    return ReviewPlan(scan_exports(review_dir / "searches"), studies, rob_files, analyses, screening_files,
                      synthesis_studies, direction_only)
