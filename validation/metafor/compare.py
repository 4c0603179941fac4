"""Print the largest deviation from metafor per reference data set.

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
    return 0 if worst_all <= RTOL else 1


if __name__ == "__main__":
    raise SystemExit(main())
