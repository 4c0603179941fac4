"""Time to rank a 10,000-record update (target: <= 30 s on 2 cores), as the screening job does it.

Training decisions: every record of Bannach-Brown 2019 (1,993 decisions, 280 includes: an earlier
version). Records to rank: the 7,579 records of the five shared sets (all five, again Bannach-Brown
included, as the queue holds both) repeated to ``--n`` records (10,000) with a per-copy
marker word so that repeats are distinct texts. Timed: TF-IDF fitted on decisions + queue,
the model fitted on the decisions, the queue scored, the strongest terms of every queued record.

    .venv/bin/python benchmarks/bench_ranking_speed.py                 # default model, 10,000 records
    .venv/bin/python benchmarks/bench_ranking_speed.py --model union_svm --n 20000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")   # 2 cores

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_screening import DATA, SETS, load  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--n", type=int, default=10_000, help="records to rank")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs (the best and all are printed)")
    args = ap.parse_args(argv)

    train_texts, train_labels = load(DATA / SETS["Bannach-Brown"])
    pool = []
    for name in SETS:
        pool.extend(load(DATA / SETS[name])[0])
    queue = [pool[i % len(pool)] + (f" copy{i // len(pool)}" if i >= len(pool) else "") for i in range(args.n)]
    t_imp = time.perf_counter()
    from livingmeta.records.ranking import DEFAULT_MODEL, RelevanceRanker

    t_imp = time.perf_counter() - t_imp
    model = args.model or DEFAULT_MODEL
    print(f"model {model}; {len(train_texts)} decisions ({sum(train_labels)} includes); {len(queue)} records to "
          f"rank; import {t_imp:.1f} s; os.cpu_count() = {os.cpu_count()}")
    times = []
    for run in range(args.repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        r = RelevanceRanker(model).fit(train_texts, train_labels, extra_texts=queue)
        t1 = time.perf_counter()
        scores = r.score(queue)
        t2 = time.perf_counter()
        terms = r.strongest_terms(queue, k=5)
        t3 = time.perf_counter()
        times.append(t3 - t0)
        loadavg = os.getloadavg()[0]
        print(f"run {run + 1}: fit (TF-IDF + model) {t1 - t0:.1f} s, score {t2 - t1:.1f} s, strongest terms "
              f"{t3 - t2:.1f} s: total {t3 - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU "
              f"(load average {loadavg:.1f})  (target <= 30 s)", flush=True)
    top = sorted(range(len(queue)), key=lambda i: -scores[i])[:3]
    for i in top:
        print(f"  top record {i}: score {scores[i]:.2f}, strongest terms {terms[i]}")
    print(f"best {min(times):.1f} s, worst {max(times):.1f} s over {len(times)} runs")


if __name__ == "__main__":
    main()
