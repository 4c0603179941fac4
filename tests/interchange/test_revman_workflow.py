"""End to end (marker ``workflow``): the RevMan 5 file of ../shared/data/revman/ imported with ``livingmeta
import revman`` runs through the whole workflow, and the published results.json gives RevMan's stored
Mantel-Haenszel results (Fleiss1993.rm5, DICH_OUTCOME of analysis 1.1)."""

from __future__ import annotations

import json

import pytest

from livingmeta.interchange.revman import import_revman

from tests.interchange.test_revman import RM5, STORED_RM5, needs_shared
from tests.workflow.helpers import snakemake

pytestmark = [pytest.mark.workflow, needs_shared]


def test_imported_rm5_review_runs_and_reproduces_revman(tmp_path):
    review = tmp_path / "fleiss"
    import_revman(RM5, review)
    snakemake(review, "--configfile", str(review / "config.yaml"), check=True)
    results = json.loads((review / "reports" / "latest" / "results.json").read_text())
    mh = next(a for a in results["analyses"] if a["method"] == "MH")
    assert mh["k"] == 7 and mh["measure"] == "OR"
    got = {"EFFECT_SIZE": mh["estimate_exp"], "CI_START": mh["ci_lb_exp"], "CI_END": mh["ci_ub_exp"],
           "CHI2": mh["Q"], "I2": mh["I2"], "P_Z": mh["pval"]}
    for key, value in got.items():
        assert value == pytest.approx(STORED_RM5[key], rel=1e-10), key
    assert (review / "reports" / "latest" / "report.html").exists()
