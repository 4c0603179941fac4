"""The engine at its edges (issue 14): iteration caps that end in the engine's error instead of a hang,
FE with Q = 0 (metafor: I2 = 0), the confidence level, and numbers in messages.

The dominant-study cases (one tiny sampling variance) are compared with metafor and with exact
arithmetic in test_metafor.py.
"""

import argparse

import numpy as np
import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.stats import _core, escalc, leave_one_out, regtest, rma, rma_batch
from livingmeta.stats.binary import escalc_2x2

Y = [0.1, 0.9, -0.5, 1.4, 0.3]          # heterogeneous: every iterative estimator has work to do
V = [0.01, 0.02, 0.015, 0.03, 0.01]


@pytest.mark.parametrize("method,control,what", [
    ("PM", {"maxiter": 1}, "PM: the root search for tau2"),
    ("REML", {"maxiter": 1, "bisect_maxiter": 1}, "REML: Fisher scoring did not converge, and the bisection"),
    ("ML", {"maxiter": 1, "bisect_maxiter": 1}, "ML: Fisher scoring did not converge"),
    ("EB", {"maxiter": 1, "bisect_maxiter": 1}, "EB: Fisher scoring did not converge"),
    ("DL", {"ci_maxiter": 1}, "the upper bound of the Q-profile CI for tau2"),
])
def test_iteration_cap_is_a_reported_failure(method, control, what):
    with pytest.raises(ReviewInputError) as err:
        rma(Y, V, method=method, control=control)
    msg = str(err.value)
    assert isinstance(err.value, _core.NotConverged)
    assert what in msg and "did not converge" in msg
    assert "Use another tau2 estimator" in msg or "Raise control ci_maxiter" in msg   # what to do
    assert "\n" not in msg


def test_fisher_cap_alone_falls_back_to_bisection_with_a_warning():
    ref = rma(Y, V, method="REML")
    res = rma(Y, V, method="REML", control={"maxiter": 1})
    assert any("did not converge in 1 iterations" in w for w in res.warnings)
    assert abs(res.tau2 - ref.tau2) <= 1e-5 * ref.tau2      # the same root, found by bisection


def test_batch_failure_names_the_analysis_rows():
    y = np.array([Y, Y, [0.1, 0.1, 0.1, 0.1, 0.1]])
    v = np.array([V, V, V])
    with pytest.raises(_core.NotConverged) as err:
        rma_batch(y, v, method="PM", control={"maxiter": 1})
    assert "analysis rows 0, 1: PM" in str(err.value)
    assert err.value.lanes == [0, 1]


def test_infinite_fisher_step_ends(monkeypatch):
    """An infinite negative step can never be halved to a feasible one; the halving loop is capped
    and the lane goes to the (bounded) fallback instead of spinning forever."""
    real = _core._fisher_numerator
    calls = {"n": 0}

    def broken(method, tau2, *args):
        calls["n"] += 1
        num, den = real(method, tau2, *args)
        return np.full_like(num, -np.inf), den

    monkeypatch.setattr(_core, "_fisher_numerator", broken)
    res = rma(Y, V, method="REML", control={"halving_maxiter": 50})
    assert res.tau2 == 0.0 and calls["n"] < 100
    assert any("did not converge" in w for w in res.warnings)


def test_issue_case_returns_in_batch_and_alone():
    """Issue 14: tr(PP) evaluated to 0 and REML never returned (CLI, library and a whole rma_batch)."""
    rng = np.random.default_rng(3)
    v = np.concatenate([[1e-10], rng.uniform(0.1, 1, 9)])
    y = rng.normal(0.3, np.sqrt(v + 0.2))
    out = rma_batch(np.vstack([y, y[::-1], np.array(Y + [np.nan] * 5)]),
                    np.vstack([v, v[::-1], np.array(V + [1.0] * 5)]), method="REML")
    one = rma(y, v, method="REML")
    assert out["tau2"][0] == one.tau2 and out["estimate"][0] == one.estimate
    assert abs(out["estimate"][1] - one.estimate) <= 1e-13 and abs(out["tau2"][1] - one.tau2) <= 1e-13
    assert np.isfinite(out["se_tau2"][:2]).all()
    assert any(w.startswith("Ratio of largest to smallest sampling variance") for w in out["warnings"][0])
    assert not any(w.startswith("Ratio of largest") for w in out["warnings"][2])


def test_fe_with_q_zero_gives_i2_zero_as_metafor():
    """R: rma(c(.3,.3,.3,.3), c(.1,.2,.3,.1), method="FE") -> QE 0, I2 0, H2 0; leave1out() I2 and H2 0."""
    y, v = [0.3, 0.3, 0.3, 0.3], [0.1, 0.2, 0.3, 0.1]
    d = rma(y, v, method="FE", test="z").to_dict()
    assert d["Q"] == 0.0 and d["I2"] == 0.0 and d["H2"] == 0.0
    for row in leave_one_out(y, v, method="FE", test="z"):
        assert row["I2"] == 0.0 and row["H2"] == 0.0


@pytest.mark.parametrize("level", [-5, 0, 100, 150, float("nan"), "x"])
def test_level_outside_0_100_is_refused(level):
    with pytest.raises(ReviewInputError) as err:
        rma(Y, V, level=level)
    msg = str(err.value)
    assert "confidence level must be between 0 and 100" in msg and "np." not in msg
    if level == -5:
        assert "(got -5)" in msg
    with pytest.raises(ReviewInputError):
        rma_batch([Y], [V], level=level)
    with pytest.raises(ReviewInputError):
        leave_one_out(Y, V, level=level)


@pytest.mark.parametrize("level", ["-5", "0", "100", "250"])
def test_pool_refuses_level_outside_0_100(tmp_path, capsys, level):
    from livingmeta.commands import pool

    f = tmp_path / "t.csv"
    f.write_text("study,yi,vi\na,0.1,0.01\nb,0.5,0.02\nc,0.2,0.03\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    pool.add_arguments(parser)
    assert pool.run(parser.parse_args([str(f), "--level", level])) == 1
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and "--level must be a confidence level in percent between 0 and 100" in lines[0]
    assert f"(got {level})" in lines[0]


def test_numbers_in_messages_are_plain():
    msgs = []
    for call in (lambda: rma_batch(np.array([[0.1, 0.2]]), np.array([[0.1, np.float64(-5.0)]])),
                 lambda: rma([0.1, 0.2], np.array([0.1, -5.0])),
                 lambda: escalc("ROM", m1i=np.array([-5.0, 2.0]), sd1i=[1, 1], n1i=[10, 10], m2i=[1, 1],
                                sd2i=[1, 1], n2i=[10, 10]),
                 lambda: regtest([0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.2, 0.1], predictor="ninv",
                                 ni=np.array([10.0, -5.0, 10.0, 10.0])),
                 lambda: escalc_2x2("OR", ai=[1, 2], n1i=[10, 10], ci=[1, 2], n2i=[10, 10], add=np.float64(-5.0))):
        with pytest.raises(ReviewInputError) as err:
            call()
        msgs.append(str(err.value))
    for m in msgs:
        assert "np.float64" not in m and "np.int" not in m and "array(" not in m, m
        assert "-5" in m, m
    assert "vi=-5)" in msgs[0]
