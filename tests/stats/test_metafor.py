"""Agreement with R metafor 3.8-1 on the recorded reference values (validation/metafor/reference).

Tolerance: 1e-6 relative, with an absolute floor of 1e-10 for values that are 0 in exact arithmetic
(see tests/stats/metafor_cases.py).  Regenerate the references with
``Rscript validation/metafor/make_reference.R``.
"""

import pytest

from .metafor_cases import REF_DIR, RTOL, deviation, iter_checks, load, reference_files

FILES = [f for f in reference_files() if load(f)["rma"]]


def test_reference_files_present():
    names = {f.stem for f in FILES}
    assert {"bcg", "normand1999", "gibson2002", "raudenbush1985", "curtis1998", "fleiss1993cont"} <= names
    assert sum(n.startswith("random_") for n in names) >= 6


@pytest.mark.metafor
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_matches_metafor(path):
    case = load(path)
    bad = []
    n = 0
    for label, ours, theirs in iter_checks(case):
        n += 1
        dev = deviation(ours, theirs)
        if not dev <= RTOL:
            bad.append(f"{label}: ours={ours!r} metafor={theirs!r} (rel. deviation {dev:.3g})")
    assert n > 50, f"only {n} values compared"
    assert not bad, f"{len(bad)} of {n} values differ from metafor:\n" + "\n".join(bad[:40])


@pytest.mark.metafor
def test_reml_nonconvergence_fallback_reaches_metafor_optimum():
    """metafor's default Fisher scoring fails on this data set; our fallback must find the optimum that
    metafor reaches with a halved step (control=list(stepadj=0.5, ...)), and say what it did."""
    from livingmeta.stats import rma

    case = load(REF_DIR / "reml_nonconvergence.json")
    ref = case["converged"]
    res = rma(case["data"]["yi"], case["data"]["vi"], method="REML", test="knha")
    assert any("did not converge" in w for w in res.warnings)
    d = res.to_dict()
    for ours, theirs in ((d["estimate"], ref["beta"]), (d["se"], ref["se"]), (d["ci_lb"], ref["ci_lb"]),
                         (d["ci_ub"], ref["ci_ub"]), (d["tau2"], ref["tau2"]), (d["I2"], ref["I2"])):
        assert deviation(ours, theirs) <= RTOL, (ours, theirs)
