"""The sensitivity analysis restricted by risk of bias: the kept studies re-pooled exactly as the main
analysis (compared with a direct fit of the same rows), for inverse variance and Mantel-Haenszel."""
from __future__ import annotations

import pytest

from livingmeta import analyses

ROB = {"studies": {
    "s1": {"d1": {"judgement": "low"}, "d2": {"judgement": "low"}},
    "s2": {"d1": {"judgement": "high"}, "d2": {"judgement": "low"}},
    "s3": {"d1": {"judgement": "unclear"}, "d2": {"judgement": "low"}},
    "s4": {"d1": {"judgement": "low"}, "d2": {"judgement": "low"}},
}}
MODEL = {"measure": "SMD", "method": "REML", "test": "knha", "level": 95, "prediction_interval": True}


def rows():
    data = [("s1", 0.5, 0.04), ("s2", 1.4, 0.05), ("s3", 0.2, 0.06), ("s4", 0.7, 0.03), ("s5", 0.9, 0.05)]
    return [{"study": s, "label": s, "yi": y, "vi": v, "kind": "continuous"} for s, y, v in data]


def test_exclude_high_keeps_unassessed_and_unclear():
    out = analyses.rob_sensitivity(rows(), MODEL, ROB, "exclude_high")
    assert out["excluded"] == ["s2"] and out["kept"] == ["s1", "s3", "s4", "s5"] and out["analysed"]
    direct = analyses.fit_pooled([r for r in rows() if r["study"] != "s2"], MODEL)
    for key in ("estimate", "se", "ci_lb", "ci_ub", "tau2", "I2"):
        assert out[key] == pytest.approx(direct[key], rel=1e-12, abs=1e-14)
    assert out["k"] == 4


def test_low_only_and_too_few_left():
    out = analyses.rob_sensitivity(rows(), MODEL, ROB, "low_only")
    assert out["kept"] == ["s1", "s4"] and out["analysed"] and out["k"] == 2
    few = analyses.rob_sensitivity(rows()[:3], MODEL, ROB, "low_only")
    assert not few["analysed"] and few["note"] == "1 study left: not pooled"
    none = analyses.rob_sensitivity([r for r in rows() if r["study"] != "s2"], MODEL, ROB, "exclude_high")
    assert not none["analysed"] and none["note"] == "no study left out"


def test_mantel_haenszel_tables():
    model = {"measure": "OR", "method": "MH", "test": "z", "level": 95, "prediction_interval": False,
             "zero_cells": None}
    tables = [("s1", 10, 40, 15, 35), ("s2", 5, 45, 20, 30), ("s3", 8, 42, 9, 41), ("s4", 3, 47, 7, 43)]
    data = [{"study": s, "label": s, "ai": a, "ci": c, "n1i": a + b, "n2i": c + d, "kind": "dichotomous"}
            for s, a, b, c, d in tables]
    out = analyses.rob_sensitivity(data, model, ROB, "exclude_high")
    direct = analyses.fit_pooled([r for r in data if r["study"] != "s2"], model)
    assert out["analysed"] and out["k"] == 3
    for key in ("estimate", "se", "ci_lb", "ci_ub"):
        assert out[key] == pytest.approx(direct[key], rel=1e-12)
    assert out["estimate_exp"] == pytest.approx(direct["estimate_exp"], rel=1e-12)


def test_overall_judgement_wins_over_items():
    rob = {**ROB, "overall": {"s2": {"judgement": "some_concerns"}, "s1": {"judgement": "high"}}}
    out = analyses.rob_sensitivity(rows(), MODEL, rob, "exclude_high")
    assert out["excluded"] == ["s1"]
