"""Benchmark: pool 10,000 meta-analyses of k = 10 with REML + Knapp-Hartung, CI, tau^2 CI and PI.

    .venv/bin/python benchmarks/bench_pool.py [--m 10000] [--k 10] [--repeat 5] [--r-m M] [--no-r]
    .venv/bin/python benchmarks/bench_pool.py --dichotomous    # 2x2 tables: log odds ratios, then the same

With ``--dichotomous`` the data are events/totals per arm: livingmeta's time includes the log odds ratios
(``escalc_2x2``, metafor's zero-cell rule) and R's loop calls ``rma(measure = "OR", ai, n1i, ci, n2i)``.

Times ``livingmeta.stats.rma_batch`` (one vectorised call) and, for the same data sets in the same
run, R metafor (``rma(yi, vi, test="knha")`` + ``confint()`` + ``predict()`` in an R loop, timed
inside R so R's start-up is excluded) when ``Rscript`` is on the PATH, and PyMARE
(``pymare.estimators.VarianceBasedLikelihoodEstimator(method="REML")`` on the stacked data sets, which
fits REML by numerical optimisation; timed with its z-test CI and Q-profile tau^2 CI, as it has no
Knapp-Hartung test or prediction interval) when it can be imported.  Prints seconds and ratios.  A benchmark, not a test: nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from livingmeta.stats import rma, rma_batch  # noqa: E402
from livingmeta.stats.binary import escalc_2x2  # noqa: E402

R_LOOP = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(TRUE)
y <- as.matrix(read.csv(args[1], header = FALSE)); v <- as.matrix(read.csv(args[2], header = FALSE))
m <- nrow(y); est <- rep(NA_real_, m); fail <- 0L
t0 <- proc.time()[["elapsed"]]
for (i in seq_len(m)) {
  r <- try(rma(y[i, ], v[i, ], method = "REML", test = "knha"), silent = TRUE)
  if (inherits(r, "try-error")) { fail <- fail + 1L; next }
  ci <- confint(r); pr <- predict(r); est[i] <- r$beta[1]
}
t1 <- proc.time()[["elapsed"]]
cat(sprintf("%.6f %d\n", t1 - t0, fail))
write.table(est, args[3], row.names = FALSE, col.names = FALSE)
"""


R_LOOP_2X2 = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(TRUE)
t <- as.matrix(read.csv(args[1], header = FALSE)); k <- ncol(t) / 4
m <- nrow(t); est <- rep(NA_real_, m); fail <- 0L
t0 <- proc.time()[["elapsed"]]
for (i in seq_len(m)) {
  x <- t[i, ]
  r <- try(rma(measure = "OR", ai = x[1:k], n1i = x[(k + 1):(2 * k)], ci = x[(2 * k + 1):(3 * k)],
               n2i = x[(3 * k + 1):(4 * k)], method = "REML", test = "knha"), silent = TRUE)
  if (inherits(r, "try-error")) { fail <- fail + 1L; next }
  ci <- confint(r); pr <- predict(r); est[i] <- r$beta[1]
}
t1 <- proc.time()[["elapsed"]]
cat(sprintf("%.6f %d\n", t1 - t0, fail))
write.table(est, args[3], row.names = FALSE, col.names = FALSE)
"""


def make_tables(m, k, seed=20240601):
    """Two-arm trials: 20-200 per arm, control risk 5-40 %, true log odds ratios around -0.3 with
    heterogeneity; at least one event per arm."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(20, 201, (m, k))
    n2 = rng.integers(20, 201, (m, k))
    p2 = rng.uniform(0.05, 0.4, (m, k))
    tau = rng.choice([0.0, 0.2, 0.5], size=(m, 1))
    lor = rng.normal(-0.3, tau, (m, k))
    odds = p2 / (1 - p2) * np.exp(lor)
    p1 = odds / (1 + odds)
    ai = np.maximum(rng.binomial(n1, p1), 1)
    ci = np.maximum(rng.binomial(n2, p2), 1)
    return ai, n1, ci, n2


def time_livingmeta_2x2(tables, repeat):
    ai, n1, ci, n2 = tables
    m, k = ai.shape
    best, res = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        y, v = escalc_2x2("OR", ai.ravel(), ci.ravel(), n1i=n1.ravel(), n2i=n2.ravel())
        res = rma_batch(np.asarray(y).reshape(m, k), np.asarray(v).reshape(m, k), method="REML", test="knha")
        best = min(best, time.perf_counter() - t)
    return best, res


def time_metafor_2x2(tables):
    return run_r_loop(R_LOOP_2X2, [np.hstack(tables)], fmt="%d")


def main_2x2(a):
    tables = make_tables(a.m, a.k)
    print(f"{a.m} dichotomous meta-analyses x k = {a.k}; log odds ratios, IV REML + Knapp-Hartung, 95% CI, "
          "Q-profile tau^2 CI, prediction interval")
    print(f"machine: {os.cpu_count()} CPUs, numpy {np.__version__}")
    rma_batch(np.ones((2, 3)), np.ones((2, 3)))  # warm-up
    t_lm, res = time_livingmeta_2x2(tables, a.repeat)
    print(f"livingmeta escalc + rma_batch  {t_lm:9.3f} s   (best of {a.repeat}; target <= 0.5 s on 2 cores)")
    if not a.no_r and shutil.which("Rscript"):
        mr = a.m if a.r_m is None else min(a.r_m, a.m)
        print_metafor(*time_metafor_2x2(tuple(t[:mr] for t in tables)), res, a.m, mr, t_lm)
    else:
        print("R metafor: Rscript not found (skipped)")


def make_data(m, k, seed=20240601):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.5, (m, k))
    tau2 = rng.choice([0.0, 0.05, 0.2, 1.0], size=(m, 1))
    y = rng.normal(0.4, np.sqrt(v + tau2))
    return y, v


def time_livingmeta(y, v, repeat):
    rma_batch(y[:5], v[:5])  # warm-up: first use of scipy.special
    best = float("inf")
    res = None
    for _ in range(repeat):
        t = time.perf_counter()
        res = rma_batch(y, v, method="REML", test="knha")
        best = min(best, time.perf_counter() - t)
    return best, res


def time_loop(y, v, n):
    t = time.perf_counter()
    for i in range(n):
        rma(y[i], v[i], method="REML", test="knha")
    return (time.perf_counter() - t) * y.shape[0] / n


def run_r_loop(script, matrices, fmt="%.17g"):
    """Run an R loop script on the matrices (written as CSV files, then the output file as the last
    argument); returns (seconds timed inside R, fits that stopped with an error, estimates)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = [os.path.join(tmp, f"m{i}.csv") for i in range(len(matrices))]
        fo, fs = os.path.join(tmp, "est.txt"), os.path.join(tmp, "loop.R")
        for path, m in zip(files, matrices):
            np.savetxt(path, m, delimiter=",", fmt=fmt)
        with open(fs, "w") as fh:
            fh.write(script)
        args = files + ["-"] * (2 - len(files)) + [fo]   # the scripts read args[1], args[2] and write args[3]
        out = subprocess.run(["Rscript", fs, *args], capture_output=True, text=True, check=True)
        secs, fails = out.stdout.split()
        est = np.array([float(x) if x != "NA" else np.nan for x in open(fo).read().split()])
    return float(secs), int(fails), est


def time_metafor(y, v):
    return run_r_loop(R_LOOP, [y, v])


def print_metafor(secs, fails, est, res, m, mr, t_lm):
    """The metafor line: its time scaled to m data sets, the ratio and the largest relative difference."""
    scaled = secs * m / mr
    ok = np.isfinite(est)
    dev = np.max(np.abs(est[ok] - res["estimate"][:mr][ok]) / np.maximum(np.abs(est[ok]), 1e-12))
    note = f"measured on {mr}, scaled" if mr < m else "measured"
    print(f"R metafor 3.8-1 loop           {scaled:9.3f} s   ({note}; {fails} fits stopped with an error "
          f"in metafor)  ratio {scaled / t_lm:7.1f}x   max rel. diff of estimates {dev:.1e}")


def time_pymare(y, v):
    """PyMARE: REML fit, fixed-effect stats (z CI) and Q-profile tau^2 CI for the same data sets."""
    import warnings

    from pymare import Dataset
    from pymare.estimators import VarianceBasedLikelihoodEstimator
    t = time.perf_counter()
    ds = Dataset(y=y.T, v=v.T)  # PyMARE stacks parallel data sets as columns
    est = VarianceBasedLikelihoodEstimator(method="REML")
    est.fit_dataset(ds)
    res = est.summary()
    fe = res.get_fe_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        re_ = res.get_re_stats()
    secs = time.perf_counter() - t
    return secs, np.ravel(fe["est"]), np.ravel(re_["tau^2"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--m", type=int, default=10000, help="number of meta-analyses")
    ap.add_argument("--k", type=int, default=10, help="studies per meta-analysis")
    ap.add_argument("--repeat", type=int, default=5, help="repeats for livingmeta (best time is shown)")
    ap.add_argument("--r-m", type=int, default=None, help="run metafor on the first M data sets only and scale")
    ap.add_argument("--no-r", action="store_true", help="skip metafor")
    ap.add_argument("--pymare-m", type=int, default=None, help="run PyMARE on the first M data sets only and scale")
    ap.add_argument("--loop-n", type=int, default=500, help="single-call rma() loop: fits timed (scaled to --m)")
    ap.add_argument("--dichotomous", action="store_true", help="2x2 tables (log odds ratios) instead of yi, vi")
    a = ap.parse_args()
    if a.dichotomous:
        return main_2x2(a)

    y, v = make_data(a.m, a.k)
    print(f"{a.m} meta-analyses x k = {a.k}; REML + Knapp-Hartung, 95% CI, Q-profile tau^2 CI, prediction interval")
    print(f"machine: {os.cpu_count()} CPUs, numpy {np.__version__}")
    t_lm, res = time_livingmeta(y, v, a.repeat)
    nw = sum(1 for w in res["warnings"] if w)
    print(f"livingmeta rma_batch           {t_lm:9.3f} s   (best of {a.repeat}; {nw} analyses with warnings)")
    t_loop = time_loop(y, v, min(a.loop_n, a.m))
    print(f"livingmeta rma() one at a time {t_loop:9.3f} s   (scaled from {min(a.loop_n, a.m)} fits)  "
          f"ratio {t_loop / t_lm:7.1f}x")
    if not a.no_r and shutil.which("Rscript"):
        mr = a.m if a.r_m is None else min(a.r_m, a.m)
        print_metafor(*time_metafor(y[:mr], v[:mr]), res, a.m, mr, t_lm)
    else:
        print("R metafor: Rscript not found (skipped)")
    try:
        import pymare  # noqa: F401
    except ImportError:
        print("PyMARE: not installed (skipped)")
    else:
        mp = a.m if a.pymare_m is None else min(a.pymare_m, a.m)
        t_pm, est, tau2 = time_pymare(y[:mp], v[:mp])
        scaled = t_pm * a.m / mp
        ref = rma_batch(y[:mp], v[:mp], method="REML", test="z")
        dev_b = np.max(np.abs(est - ref["estimate"]))
        dev_t = np.max(np.abs(tau2 - ref["tau2"]))
        note = f"measured on {mp}, scaled" if mp < a.m else "measured"
        print(f"PyMARE {pymare.__version__} REML + z CI + QP tau^2 CI {scaled:9.3f} s   ({note}; no Knapp-Hartung or PI)  "
              f"ratio {scaled / t_lm:7.1f}x   max abs. diff from metafor-exact: estimate {dev_b:.1e}, tau2 {dev_t:.1e}")


if __name__ == "__main__":
    main()
