"""Agreement with R metafor 3.8-1 on the recorded reference values (validation/metafor/reference).

Tolerance: 1e-6 relative, with an absolute floor of 1e-10 for values that are 0 in exact arithmetic
(see tests/stats/metafor_cases.py).  Regenerate the references with
``Rscript validation/metafor/make_reference.R``.
"""

import math

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


# --------------------------------------------------------------------------------------------------
# One study with a tiny sampling variance (issue 14): reference/dominant_study.json
# --------------------------------------------------------------------------------------------------

DOMINANT_KEYS = (("estimate", "beta"), ("se", "se"), ("zval", "zval"), ("pval", "pval"), ("ci_lb", "ci_lb"),
                 ("ci_ub", "ci_ub"), ("tau2", "tau2"), ("se_tau2", "se_tau2"), ("I2", "I2"), ("H2", "H2"),
                 ("Q", "QE"), ("Q_pval", "QEp"), ("tau2_ci_lb", "tau2_ci_lb"), ("tau2_ci_ub", "tau2_ci_ub"),
                 ("I2_ci_lb", "I2_ci_lb"), ("I2_ci_ub", "I2_ci_ub"), ("pi_lb", "pi_lb"), ("pi_ub", "pi_ub"),
                 ("weights", "weights"))
EPS = 2.0 ** -52


def _dominant_cases():
    return load(REF_DIR / "dominant_study.json")["cases"]


def dominant_tolerance(vimaxmin):
    """metafor forms P = W - W X (X'WX)^-1 X'W explicitly and so loses about log10(max vi / min vi)
    digits (measured: at most 16 x ratio x eps over the sweep); the allowance is 64 x ratio x eps, and
    never below 1e-10.  Exactness of livingmeta's own values is checked against rational arithmetic in
    test_dominant_study_traces_are_exact."""
    return max(1e-10, 64.0 * vimaxmin * EPS)


@pytest.mark.metafor
@pytest.mark.parametrize("case", _dominant_cases(), ids=lambda c: c["name"])
def test_dominant_study_matches_metafor(case):
    import numpy as np

    from livingmeta.stats import rma

    from .metafor_cases import _pairs

    y, v = np.array(case["data"]["yi"], float), np.array(case["data"]["vi"], float)
    tol = dominant_tolerance(case["vimaxmin"])
    assert {b["method"] for b in case["rma"]} == {"FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"}
    bad, n = [], 0
    for blk in case["rma"]:
        d = rma(y, v, method=blk["method"], test="z").to_dict()
        for ours, ref in DOMINANT_KEYS:
            if ref not in blk:
                continue
            for label, a, b in _pairs(f"{blk['method']} {ours}", d[ours], blk[ref]):
                n += 1
                if not deviation(a, b) <= tol:
                    bad.append(f"{label}: ours={a!r} metafor={b!r} (rel. {deviation(a, b):.3g} > {tol:.3g})")
        r_warn = blk.get("warnings") or []
        r_warn = [r_warn] if isinstance(r_warn, str) else r_warn
        theirs = any(w.startswith("Ratio of largest to smallest sampling variance") for w in r_warn)
        mine = any(w.startswith("Ratio of largest to smallest sampling variance") for w in d["warnings"])
        if theirs != mine:
            bad.append(f"{blk['method']}: variance-ratio warning metafor={theirs} livingmeta={mine}")
    assert n > 200
    assert not bad, "\n".join(bad[:30])


def _exact_dl(y, v, tau2=None):
    """Q, DL tau2 and its SE, and tr(P), tr(PP) at tau2 (default 0) in exact rational arithmetic on the
    stored doubles (P = W - w w'/sum(w), metafor's formulas for DL)."""
    from fractions import Fraction as Fr

    yy = [Fr(float(a)) for a in y]
    t = Fr(0) if tau2 is None else Fr(float(tau2))
    w = [1 / (Fr(float(a)) + t) for a in v]
    s, k = sum(w), len(w)
    b = sum(wi * yi for wi, yi in zip(w, yy)) / s
    Q = sum(wi * (yi - b) ** 2 for wi, yi in zip(w, yy))
    P = [[(w[i] if i == j else 0) - w[i] * w[j] / s for j in range(k)] for i in range(k)]
    trP = sum(P[i][i] for i in range(k))
    trPP = sum(P[i][j] ** 2 for i in range(k) for j in range(k))
    tau2_dl = (Q - (k - 1)) / trP
    tp = max(tau2_dl, 0)
    se = math.sqrt((2 * (k - 1) + 4 * tp * trP + 2 * tp * tp * trPP) / trP ** 2)
    return float(Q), float(max(tau2_dl, 0)), se, trPP


@pytest.mark.metafor
def test_dominant_study_traces_are_exact():
    """Q, the DL estimate and its SE (tr P, tr PP at tau2 = 0) and the REML SE (tr PP at the REML
    estimate) agree with exact rational arithmetic to 1e-13 on every case of the sweep, where
    metafor's own values are off by up to ~1e-4 (the figures are in the report of issue 14)."""
    import numpy as np

    from livingmeta.stats import rma

    bad = []
    for case in _dominant_cases():
        y, v = case["data"]["yi"], case["data"]["vi"]
        Q, tau2, se, _ = _exact_dl(y, v)
        d = rma(np.array(y), np.array(v), method="DL", test="z").to_dict()
        for name, ours, exact in (("Q", d["Q"], Q), ("DL tau2", d["tau2"], tau2), ("DL se_tau2", d["se_tau2"], se)):
            if abs(ours - exact) > 1e-13 * max(abs(exact), 1.0):
                bad.append(f"{case['name']} {name}: {ours!r} vs exact {exact!r}")
        r = rma(np.array(y), np.array(v), method="REML", test="z")
        trPP = _exact_dl(y, v, r.tau2)[3]
        exact_se = math.sqrt(2 / trPP)
        if abs(r.se_tau2 - exact_se) > 1e-13 * exact_se:
            bad.append(f"{case['name']} REML se_tau2: {r.se_tau2!r} vs exact {exact_se!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.metafor
def test_dominant_study_issue_cases():
    """The two cases of issue 14: REML used to hang on the first (tr PP evaluated to 0) and gave
    tau2 > 0 on the same design with vi[1] = 1e-12; DL's SE of tau2 on the second was 0.0228."""
    import numpy as np

    from livingmeta.stats import rma

    cases = {c["name"]: c for c in _dominant_cases()}
    c = cases["issue_reml_hang"]
    r = rma(np.array(c["data"]["yi"]), np.array(c["data"]["vi"]), method="REML", test="z")
    assert r.tau2 == 0.0
    assert abs(r.estimate - 0.399232709260606) <= 1e-14
    assert abs(r.se_tau2 / 0.0697162334158929 - 1) < 1e-7       # metafor's own value is 5e-8 off the exact one
    assert any(w.startswith("Ratio of largest to smallest sampling variance") for w in r.warnings)
    for j in range(7, 15):   # the same design with vi[1] = 1e-7 ... 1e-14: tau2 = 0 as in metafor
        c = cases[f"sweep_c_{j:02d}"]
        r = rma(np.array(c["data"]["yi"]), np.array(c["data"]["vi"]), method="REML", test="z")
        ref = next(b for b in c["rma"] if b["method"] == "REML")
        assert r.tau2 == 0.0 == ref["tau2"], c["name"]
    c = cases["sweep_a_10"]
    r = rma(np.array(c["data"]["yi"]), np.array(c["data"]["vi"]), method="DL", test="z")
    assert abs(r.se_tau2 - 0.0379890398) < 1e-9           # the issue quotes metafor to 10 digits
