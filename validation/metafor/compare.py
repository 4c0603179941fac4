"""Print the largest deviation from metafor per reference data set, and for the dominant-study sweep
(reference/dominant_study.json) the largest deviation per estimator and quantity.

    .venv/bin/python validation/metafor/compare.py
"""

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.stats.metafor_cases import RTOL, deviation, iter_checks, load, reference_files  # noqa: E402


def main():
    worst_all = 0.0
    total = 0
    for path in reference_files():
        case = load(path)
        if "data" not in case:
            continue
        n, worst, where = 0, 0.0, ""
        for label, ours, theirs in iter_checks(case):
            n += 1
            d = deviation(ours, theirs)
            if d == 0.0 and ours is not None and theirs is not None:
                a, b = float(ours), float(theirs)
                if b != 0 and math.isfinite(a) and math.isfinite(b):
                    d = abs(a - b) / abs(b)   # report the raw relative difference as well
            if d > worst:
                worst, where = d, label
        total += n
        worst_all = max(worst_all, worst)
        print(f"{path.stem:22s} {n:6d} values  max rel. deviation {worst:.2e}  {where}")
    print(f"{'all':22s} {total:6d} values  max rel. deviation {worst_all:.2e}  (tolerance {RTOL:g})")
    ok = dominant_sweep()
    return 0 if worst_all <= RTOL and ok else 1


def dominant_sweep():
    """Worst relative deviation from metafor per estimator and quantity on the dominant-study cases,
    and the worst as a multiple of the allowance for metafor's own rounding (64 x ratio x eps)."""
    import numpy as np

    from livingmeta.stats import rma
    from tests.stats.metafor_cases import REF_DIR, _pairs
    from tests.stats.test_metafor import DOMINANT_KEYS, dominant_tolerance

    path = REF_DIR / "dominant_study.json"
    if not path.exists():
        return True
    worst, frac = {}, 0.0
    for case in load(path)["cases"]:
        y, v = np.array(case["data"]["yi"], float), np.array(case["data"]["vi"], float)
        tol = dominant_tolerance(case["vimaxmin"])
        for blk in case["rma"]:
            d = rma(y, v, method=blk["method"], test="z").to_dict()
            for ours, ref in DOMINANT_KEYS:
                if ref not in blk:
                    continue
                for _, a, b in _pairs(ours, d[ours], blk[ref]):
                    dev = deviation(a, b)
                    key = (blk["method"], ours)
                    if dev >= worst.get(key, (-1.0,))[0]:
                        worst[key] = (dev, case["name"])
                    frac = max(frac, dev / tol)
    quantities = [q for q, _ in DOMINANT_KEYS if any(k[1] == q for k in worst)]
    methods = sorted({k[0] for k in worst}, key=["FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"].index)
    print("\ndominant-study sweep (vi[1] = 1e-1 ... 1e-14): worst rel. deviation from metafor 3.8-1")
    print(f"{'':12s}" + "".join(f"{m:>9s}" for m in methods))
    for q in quantities:
        row = "".join(f"{worst[(m, q)][0]:9.1e}" if (m, q) in worst else f"{'-':>9s}" for m in methods)
        print(f"{q:12s}{row}")
    print(f"worst deviation / allowance (64 x max(vi)/min(vi) x eps, floor 1e-10): {frac:.3f}")
    return frac <= 1.0


if __name__ == "__main__":
    raise SystemExit(main())
