"""Fixtures for the report tests: hand-written intermediate files in the formats of docs/architecture.md.

``fixtures/example/`` holds five studies of the example review (illustrative numbers, as the real example),
three analyses (DHI at 4 weeks, k = 4; histological grade, k = 4; MMP13 at 12 weeks, k = 1 with no
subgroup or leave-one-out analysis), SYRCLE judgements, PRISMA counts of an updated review with the
previous version's own flow and screening agreement, and the protocol (review.yaml).
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "example"
ANALYSES = ["dhi__4_weeks", "histological_grade__end_of_study", "mmp13__12_weeks"]
WHEN = datetime(2026, 11, 21, 6, 0, 0, tzinfo=timezone.utc)
CONFIG = {
    "analysis": {
        "measure": "SMD", "smd_variance": "LS", "method": "REML", "test": "knha", "level": 95,
        "prediction_interval": True, "subgroup_tau2": "separate",
        "subgroups": [{"variable": "hydrogel_type", "label": "Hydrogel type"},
                      {"variable": "exosome_source", "label": "Exosome source"},
                      {"variable": "route", "label": "Route of administration"},
                      {"variable": "age", "label": "Animal age"}],
        "leave_one_out": True,
    },
    "report": {"pdf": True},
}


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def fixture_paths() -> dict:
    res = FIXTURES / "results"
    return {
        "prisma_path": str(res / "records" / "prisma.json"),
        "study_paths": sorted(str(p) for p in (res / "studies").glob("*.json")),
        "rob_path": str(res / "rob" / "summary.json"),
        "pooled_paths": [str(res / "analyses" / a / "pooled.json") for a in ANALYSES],
        "subgroups_paths": [str(res / "analyses" / a / "subgroups.json") for a in ANALYSES],
        "loo_paths": [str(res / "analyses" / a / "leave_one_out.json") for a in ANALYSES],
        "review_path": str(FIXTURES / "review" / "review.yaml"),
    }


@pytest.fixture()
def inputs() -> dict:
    """The parsed intermediate documents, as keyword arguments of build_results (a fresh copy per test)."""
    p = fixture_paths()
    return {
        "prisma": _read(Path(p["prisma_path"])),
        "studies": [_read(Path(s)) for s in p["study_paths"]],
        "rob": _read(Path(p["rob_path"])),
        "pooled": [_read(Path(s)) for s in p["pooled_paths"]],
        "subgroups": [_read(Path(s)) for s in p["subgroups_paths"]],
        "leave_one_out": [_read(Path(s)) for s in p["loo_paths"]],
        "review": yaml.safe_load(Path(p["review_path"]).read_text(encoding="utf-8")),
        "config": copy.deepcopy(CONFIG),
    }


@pytest.fixture()
def build(tmp_path):
    """build(**overrides) -> results.json dict from the fixtures (fixed time, empty reports folder)."""
    from livingmeta.report.results_json import build_results

    def _build(inputs: dict, **overrides):
        kwargs = dict(inputs)
        kwargs.setdefault("reports_dir", str(tmp_path / "reports"))
        kwargs.setdefault("when", WHEN)
        kwargs.setdefault("software", {"python": "3.11.7", "livingmeta": "0.1.0", "snakemake": "9.27.1",
                                       "numpy": "2.4.6", "scipy": "1.17.1", "jinja2": "3.1.6",
                                       "weasyprint": "70.0"})
        kwargs.update(overrides)
        # round-trip through JSON like the workflow does (results.json is read back by the HTML job)
        from livingmeta.jsonio import dumps

        return json.loads(dumps(build_results(**kwargs)))

    return _build


@pytest.fixture()
def results(inputs, build) -> dict:
    return build(inputs)


def without_illustrative(inputs: dict) -> dict:
    """The same inputs with every number marked as read from a figure (no illustrative data)."""
    out = copy.deepcopy(inputs)
    for doc in out["studies"]:
        doc["illustrative"] = False
        for effect in doc["effects"]:
            effect["provenance"] = "figure"
            effect["source"] = "Fig. 3A (digitised)"
    for doc in out["pooled"]:
        doc["illustrative"] = False
        for row in doc["studies"]:
            row["provenance"] = "figure"
    return out
