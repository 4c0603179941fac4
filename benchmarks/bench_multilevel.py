"""Benchmark: three-level model (100 studies x 5 comparisons), livingmeta.stats.rma_mv beside metafor's rma.mv.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_multilevel.py [--repeat N]

Uses the seeded data set of validation/metafor/reference/multilevel.json ("seeded_100x5"), fits
``rma.mv(yi, vi, random = ~ 1 | study/comparison, test = "t", dfs = "contain")`` (REML) and the CR2 tests,
and prints the median wall time of each.  When Rscript (with metafor) is on PATH, the same fit is timed
in R in the same run (``system.time`` over the same number of repeats); otherwise a note says it was
skipped.  Prints figures only; no assertion.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

R_CODE = r"""
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
d <- fromJSON("%(ref)s")$datasets$seeded_100x5$data
dat <- data.frame(yi = d$yi, vi = d$vi, study = d$study, comparison = d$comparison)
n <- %(repeat)d
t <- sapply(seq_len(n), function(i) system.time(
  res <<- rma.mv(yi, vi, random = ~ 1 | study/comparison, data = dat, test = "t", dfs = "contain"))[["elapsed"]])
t2 <- sapply(seq_len(n), function(i) system.time(
  rb <- robust(res, cluster = dat$study, clubSandwich = TRUE))[["elapsed"]])
cat(sprintf("%%.6f %%.6f %%.10g %%.10g %%.10g\n", median(t), median(t2), res$beta[1], res$sigma2[1], res$sigma2[2]))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    from livingmeta.stats import rma_mv, robust_cr2

    ref_path = ROOT / "validation" / "metafor" / "reference" / "multilevel.json"
    d = json.loads(ref_path.read_text())["datasets"]["seeded_100x5"]["data"]
    rma_mv(d["yi"], d["vi"], study=d["study"], comparison=d["comparison"], dfs="contain")  # warm-up (imports)
    times, rtimes = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        fit = rma_mv(d["yi"], d["vi"], study=d["study"], comparison=d["comparison"], test="t", dfs="contain")
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        robust_cr2(fit)
        rtimes.append(time.perf_counter() - t0)
    print(f"three-level model, k = {fit.k} ({fit.s_nlevels[0]} studies x 5 comparisons), REML, t/contain")
    print(f"livingmeta rma_mv    : {statistics.median(times) * 1000:8.1f} ms  (median of {args.repeat}; "
          f"{fit.iterations} iterations; estimate {fit.beta[0]:.10g}, "
          f"sigma2 {fit.sigma2[0]:.10g} / {fit.sigma2[1]:.10g})")
    print(f"livingmeta robust_cr2: {statistics.median(rtimes) * 1000:8.1f} ms")
    if shutil.which("Rscript") is None:
        print("metafor: skipped (Rscript not found on PATH)")
        return 0
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(R_CODE % {"ref": str(ref_path), "repeat": args.repeat})
    proc = subprocess.run(["Rscript", fh.name], capture_output=True, text=True)
    Path(fh.name).unlink()
    if proc.returncode != 0:
        print(f"metafor: skipped (Rscript failed: {proc.stderr.strip().splitlines()[-1:]})")
        return 0
    t, t2, b, s1, s2 = (float(x) for x in proc.stdout.split())
    print(f"metafor rma.mv       : {t * 1000:8.1f} ms  (median of {args.repeat}; estimate {b:.10g}, "
          f"sigma2 {s1:.10g} / {s2:.10g})")
    print(f"metafor robust(CR2)  : {t2 * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
