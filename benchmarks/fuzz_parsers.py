"""A longer fuzz run of every export parser (not part of the test run): N examples per format.

Uses the seeds, strategies and check of ``tests/records/test_fuzz_parsers.py`` (mutated real exports and
generated text), but instead of stopping at the first failure it counts every input that raises anything
other than :class:`livingmeta.errors.ReviewInputError` (or breaks the parsed-file contract), grouped by
exception type and the innermost livingmeta line, and prints per format::

    format       mutated  generated  crashes  distinct
    ris             2000       1000        0         0

Run: ``PYTHONPATH=$PWD .venv/bin/python benchmarks/fuzz_parsers.py [-n 2000] [--formats ris csv]
[--seed 1] [--save DIR]`` (``--save`` writes one crashing input per distinct crash, to reproduce it with
``livingmeta.records.ingest.parse_export``). Exits 1 if any crash was found.

Figures (2-core machine shared with other work, ``-n 3000 --seed 7``): 0 crashes in 4,500 inputs per format
for every format (31,500 in all; 27-80 s per format). The parsers before issue 13's fixes crashed on 15-30 %
of ``-n 500`` inputs per format (``_csv.Error`` in ``csvfile.looks_like`` on a bare CR, ``AttributeError``
in ``nbib.split_records``, ``UnicodeDecodeError`` on a truncated UTF-16 file).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

REPO = Path(__file__).resolve().parents[1]


def load_fuzz_module():
    spec = importlib.util.spec_from_file_location("fuzz_parsers_test",
                                                  REPO / "tests" / "records" / "test_fuzz_parsers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def crash_key(err: BaseException) -> str:
    """A crash class: the exception type and the innermost line of livingmeta (or of the check) it came
    from."""
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if "livingmeta" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(err).__name__} at {where}"


def run(fuzz, fmt: str, strategy, n: int, run_seed: int, crashes: Counter, examples: dict) -> int:
    count = 0

    @seed(run_seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def target(data):
        nonlocal count
        count += 1
        try:
            fuzz.check(data, fmt, name=f"fuzz.{fmt}")
        except Exception as err:  # noqa: BLE001 - counting every crash is the point
            key = crash_key(err)
            crashes[key] += 1
            examples.setdefault(key, (data, str(err)[:100]))

    target()
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="mutated examples per format (generated: n/2)")
    parser.add_argument("--formats", nargs="*", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", type=Path, default=None, help="write one input per distinct crash here")
    args = parser.parse_args(argv)
    fuzz = load_fuzz_module()
    formats = args.formats or list(fuzz.FORMATS)
    total = 0
    print(f"{'format':<12} {'mutated':>8} {'generated':>10} {'crashes':>8} {'distinct':>9} {'seconds':>8}")
    for fmt in formats:
        crashes: Counter = Counter()
        examples: dict = {}
        start = time.perf_counter()
        n_mut = run(fuzz, fmt, fuzz.mutations(fuzz.SEEDS[fmt]), args.n, args.seed, crashes, examples)
        n_gen = run(fuzz, fmt, fuzz.generated(fmt), max(args.n // 2, 1), args.seed, crashes, examples)
        n_crashes = sum(crashes.values())
        total += n_crashes
        print(f"{fmt:<12} {n_mut:>8} {n_gen:>10} {n_crashes:>8} {len(crashes):>9} "
              f"{time.perf_counter() - start:>8.1f}")
        for i, (key, k) in enumerate(crashes.most_common()):
            data, message = examples[key]
            print(f"    {k:>5} x {key}: {message}")
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{fmt}-{i + 1}.{fmt}").write_bytes(data)
        sys.stdout.flush()
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
