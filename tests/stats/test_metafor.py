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
    assert {"bcg", "normand1999", "gibson2002", "raudenbush1985", "curtis1998", "fleiss1993cont",
            "haeuser2009", "haeuser2009_split"} <= names
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


@pytest.mark.metafor
def test_haeuser2009_shared_control_split_matches_reference():
    """dat.haeuser2009 (pain): four studies share one placebo group between 2 or 3 antidepressant arms.
    Splitting each shared control's n with split_shared_control() must give exactly the n2i the
    reference used (R: n %/% k, remainder to the first comparisons), e.g. Goldenberg 1996 19 -> 10 + 9,
    Russell 2008 144 -> 48 x 3; the SMDs and every model fitted on them are then compared with metafor
    by test_matches_metafor."""
    from collections import Counter, defaultdict

    from livingmeta.stats import split_shared_control

    case = load(REF_DIR / "haeuser2009_split.json")
    groups = case["shared_control"]["group"]
    n_unsplit = case["shared_control"]["n2i_unsplit"]
    sizes = Counter(groups)
    parts, seen = {}, defaultdict(int)
    ours = []
    for g, n in zip(groups, n_unsplit):
        parts.setdefault(g, split_shared_control(n, sizes[g]))
        ours.append(parts[g][seen[g]])
        seen[g] += 1
    assert ours == [int(x) for x in case["arms"]["n2i"]]
    assert sum(ours) == sum(n for g, n in dict(zip(groups, n_unsplit)).items())  # each control counted once
    unsplit = load(REF_DIR / "haeuser2009.json")
    assert unsplit["arms"]["n2i"] == n_unsplit and sizes["c21"] == 3 and sizes["c5"] == 2
