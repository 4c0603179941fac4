"""Simulated screening with livingmeta's ranking models and ASReview's default model on five labelled sets.

Prints, for every shared set, model and seed: WSS@95 in both common definitions (``wss95``: Cohen et al.
2006, priors counted as screened; ``wss95_asreview``: asreview-insights, on the records after the priors),
recall after 10 % screened, records screened to 95 % recall, and where the hypergeometric stopping rule
(livingmeta/records/stopping.py; 95 % recall target, 95 % confidence, checked every 10 records) would
have stopped and the recall reached there; then per set and model the mean and
minimum over seeds, and per model its WORST set (the model is chosen by that).

    .venv/bin/python benchmarks/bench_screening.py                       # 5 sets x 5 seeds, 2 models
    .venv/bin/python benchmarks/bench_screening.py --models elas_u4 ensemble_svm union_svm --growth 0.05

Data: ../shared/data/screening/ (Bannach-Brown 2019 and four Cohen 2006 drug-class reviews; see its
README.md). Text = title + abstract (what ASReview's TF-IDF uses; the Cohen MeSH keywords are left out,
as their README asks). Protocol (ASReview's simulation): prior knowledge = 1 include + 1 exclude drawn at
random per seed (the same priors for every model at a seed); the model is refitted on the labels of the
records screened so far and the ``--batch`` highest-ranked unscreened records are screened next ("max"
query), until every record is screened. TF-IDF is fitted once on all texts, without labels.

``elas_u4`` reimplements ASReview LAB 2.x/3.x's default model from its source and documentation
(asreview/models/models.py: TF-IDF word 1-2-grams, sublinear tf, max_df 0.95; LinearSVC C = 0.11; Balanced
ratio 9.8; max query) on the same scikit-learn classes ASReview uses.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread per process (set before numpy is imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "data" / "screening"
if not DATA.is_dir():  # a git worktree under /work/wt: the shared data sit next to the main checkout
    DATA = Path("/work/shared/data/screening")
SETS = {
    "Bannach-Brown": "Bannach-Brown_2019.csv",
    "AtypicalAntipsychotics": "cohen2006/AtypicalAntipsychotics.csv",
    "CalciumChannelBlockers": "cohen2006/CalciumChannelBlockers.csv",
    "Opiods": "cohen2006/Opiods.csv",
    "ProtonPumpInhibitors": "cohen2006/ProtonPumpInhibitors.csv",
}


def load(path: Path):
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [" ".join(filter(None, ((r.get("title") or "").strip(), (r.get("abstract") or "").strip()))) for r in rows]
    labels = [str(r["label_included"]).strip() in ("1", "1.0", "True", "true") for r in rows]
    return texts, labels


_CACHE: dict = {}


def run_one(task):
    name, model, seed, batch, growth = task
    from livingmeta.records.ranking import MODELS, make_vectorizer, simulate

    if name not in _CACHE:  # one set at a time per process: texts, labels and TF-IDF matrices
        _CACHE.clear()
        _CACHE[name] = (*load(DATA / SETS[name]), {})
    texts, labels, mats = _CACHE[name]
    for kind in {c.features for c in MODELS[model]}:
        if kind not in mats:
            mats[kind] = make_vectorizer(kind, len(texts)).fit_transform(texts).tocsr()
    t0 = time.perf_counter()
    out = simulate(texts, labels, model=model, batch=batch, seed=seed, growth=growth, matrices=mats)
    from livingmeta.records.stopping import simulate_stopping

    stop = simulate_stopping(out["order"], labels, recall_target=0.95, confidence=0.95, every=10)
    out.update({f"stop_{k}": v for k, v in stop.items()})
    return name, model, seed, out, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=None, help="default: elas_u4 and the default model")
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..n-1 (random 1 + 1 priors)")
    ap.add_argument("--batch", type=int, default=10, help="records screened between refits")
    ap.add_argument("--growth", type=float, default=0.0,
                    help="between refits screen max(batch, growth x screened so far) records (e.g. 0.02)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel simulations")
    ap.add_argument("--bootstrap", type=int, default=0,
                    help="also resample each set's includes B times: paired differences to elas_u4, 95%% interval")
    ap.add_argument("--save", type=Path, default=None, help="write every simulation (with its order) to this JSON file")
    args = ap.parse_args(argv)
    if not args.models:
        from livingmeta.records.ranking import DEFAULT_MODEL

        args.models = list(dict.fromkeys(["elas_u4", DEFAULT_MODEL]))

    tasks = [(s, m, seed, args.batch, args.growth) for s in args.sets for seed in range(args.seeds) for m in args.models]
    print(f"{len(tasks)} simulations: sets {', '.join(args.sets)}; models {', '.join(args.models)}; seeds "
          f"0..{args.seeds - 1}; batch {args.batch}, growth {args.growth:g}; priors 1 + 1 random; {args.jobs} processes", flush=True)
    results = []
    t_all = time.perf_counter()
    if args.jobs > 1:
        from multiprocessing import Pool

        with Pool(args.jobs) as pool:
            for r in pool.imap_unordered(run_one, tasks):
                results.append(r)
                _print_row(r)
    else:
        for t in tasks:
            r = run_one(t)
            results.append(r)
            _print_row(r)
    print(f"\nall simulations: {time.perf_counter() - t_all:.0f} s wall")
    if args.save:
        import json

        args.save.write_text(json.dumps([{"set": r[0], "model": r[1], "seed": r[2], **r[3]} for r in results]))
    positions = {}   # (set, model, seed) -> {include's record index: screening position}
    for r in results:
        order = r[3].pop("order", None)
        if args.bootstrap and order is not None:
            labels = _CACHE[r[0]][1] if r[0] in _CACHE else load(DATA / SETS[r[0]])[1]
            positions[r[0], r[1], r[2]] = {i: k for k, i in enumerate(order) if labels[i]}
    keys = ("wss95", "wss95_asreview", "recall_at_10", "n_screened_95", "stop_stopped_at", "stop_recall")
    print("\nper set and model: mean (min over seeds) of WSS@95 | WSS@95 asreview-insights | recall@10% | "
          "records to 95% recall (mean, max)")
    summary = {}
    for s in args.sets:
        for m in args.models:
            rows = [r[3] for r in results if r[0] == s and r[1] == m]
            if not rows:
                continue
            summary[s, m] = {k: [x[k] for x in rows] for k in keys}
            v = summary[s, m]
            print(f"{s:24s} {m:14s} {statistics.mean(v['wss95']):.3f} ({min(v['wss95']):.3f}) | "
                  f"{statistics.mean(v['wss95_asreview']):.3f} ({min(v['wss95_asreview']):.3f}) | "
                  f"{statistics.mean(v['recall_at_10']):.3f} ({min(v['recall_at_10']):.3f}) | "
                  f"{statistics.mean(v['n_screened_95']):.0f} ({max(v['n_screened_95'])}) of {rows[0]['n']} | "
                  f"stopping rule: stop after {statistics.mean(v['stop_stopped_at']):.0f}, recall "
                  f"{statistics.mean(v['stop_recall']):.3f} (min {min(v['stop_recall']):.3f})")
    print("\nper model, worst set by mean WSS@95 (asreview-insights) and the mean over sets:")
    for m in args.models:
        per = {s: statistics.mean(summary[s, m]["wss95_asreview"]) for s in args.sets if (s, m) in summary}
        if per:
            worst = min(per, key=per.get)
            print(f"{m:14s} worst {worst} {per[worst]:.3f}; mean over sets {statistics.mean(per.values()):.3f}")
    if "elas_u4" in args.models:
        print("\npaired difference to elas_u4 per set (same seed = same priors): mean (seed sd of the difference) "
              "for WSS@95 Cohen | asreview-insights; then the WORST set of each definition (the choice criterion: "
              "the smallest mean difference, and the same in units of the seed sd, no finer than one record = 1/n)")
        for m in args.models:
            if m == "elas_u4":
                continue
            cells, worst = [], {}
            for s in args.sets:
                a = {r[2]: r[3] for r in results if r[0] == s and r[1] == m}
                b = {r[2]: r[3] for r in results if r[0] == s and r[1] == "elas_u4"}
                seeds = sorted(set(a) & set(b))
                if not seeds:
                    continue
                parts = []
                for key in ("wss95", "wss95_asreview"):
                    d = [a[x][key] - b[x][key] for x in seeds]
                    mu = statistics.mean(d)
                    sd = statistics.stdev(d) if len(d) > 1 else float("nan")
                    parts.append(f"{mu:+.3f} ({sd:.3f})")
                    if key not in worst or mu < worst[key][1]:
                        worst[key] = (s, mu, sd, 1.0 / a[seeds[0]]["n"])
                cells.append(f"{s} {parts[0]} | {parts[1]}")
            print(f"{m}: " + "; ".join(cells))
            for key, label in (("wss95", "Cohen"), ("wss95_asreview", "asreview-insights")):
                if key in worst:
                    s, mu, sd, one = worst[key]
                    unit = max(sd, one) if sd == sd else one   # no finer than one record (1 / n)
                    print(f"    worst set ({label}): {s} {mu:+.3f} (sd {sd:.3f}; {mu / unit:+.1f} x max(sd, 1/n))")
    if args.bootstrap and "elas_u4" in args.models:
        bootstrap_includes(positions, args.sets, args.models, results, args.bootstrap)


def _wss_from_positions(pos, n, n_prior, recall=0.95):
    """Both WSS@95 definitions from the screening positions of a (resampled) set of includes, as
    ``screening_metrics`` computes them from a full order (positions < n_prior are the priors)."""
    import math

    import numpy as np

    pos = np.sort(np.asarray(pos))
    k = len(pos)
    cohen = (n - (int(pos[math.ceil(recall * k - 1e-9) - 1]) + 1)) / n - (1 - recall)
    after = pos[pos >= n_prior] - n_prior
    m, n2 = len(after), n - n_prior
    if m == 0:
        return cohen, float("nan")
    T = int(np.searchsorted(np.arange(1, m + 1) / m, recall, side="right"))
    if T == 0:
        return cohen, 0.0
    k_T = int(np.searchsorted(np.round(np.linspace(0, m, n2)), T))
    return cohen, (k_T - int(after[T - 1])) / n2


def bootstrap_includes(positions, sets, models, results, B):
    """Which includes a review happens to have, as a second source of noise besides the seeds: resample
    each set's includes with replacement (B times, the same draws for every model and seed; the excludes
    and the screening orders as simulated), recompute both WSS@95 definitions from the includes'
    screening positions, and give the 2.5 and 97.5 percentiles of the paired difference to elas_u4
    (mean over seeds). Percentile bootstrap: Efron & Tibshirani 1993, An Introduction to the Bootstrap."""
    import numpy as np

    print(f"\nbootstrap over each set's includes ({B} draws; excludes and orders fixed): paired difference to "
          "elas_u4, mean over seeds, [2.5%, 97.5%] for WSS@95 Cohen | asreview-insights")
    meta = {(r[0], r[1], r[2]): r[3] for r in results}
    for m in models:
        if m == "elas_u4":
            continue
        cells = []
        for s in sets:
            seeds = sorted(x for (s2, m2, x) in positions if s2 == s and m2 == m and (s, "elas_u4", x) in positions)
            if not seeds:
                continue
            inc = sorted(positions[s, m, seeds[0]])
            rng = np.random.default_rng(12345)
            draws = rng.integers(0, len(inc), size=(B, len(inc)))
            diff = np.zeros((B, 2))
            for x in seeds:
                n, n_prior = meta[s, m, x]["n"], meta[s, m, x]["n_prior"]
                pm, pe = positions[s, m, x], positions[s, "elas_u4", x]
                for b in range(B):
                    ids = [inc[j] for j in draws[b]]
                    diff[b] += np.subtract(_wss_from_positions([pm[i] for i in ids], n, n_prior),
                                           _wss_from_positions([pe[i] for i in ids], n, n_prior))
            diff /= len(seeds)
            lo, hi = np.nanpercentile(diff, [2.5, 97.5], axis=0)
            cells.append(f"{s} [{lo[0]:+.3f}, {hi[0]:+.3f}] | [{lo[1]:+.3f}, {hi[1]:+.3f}]")
        print(f"{m}: " + "; ".join(cells))


def _print_row(r):
    name, model, seed, out, secs = r
    out = {k: v for k, v in out.items() if k != "order"}
    print(f"{name:24s} {model:14s} seed {seed}: WSS@95 {out['wss95']:.3f} | asreview-insights "
          f"{out['wss95_asreview']:.3f} | recall@10% {out['recall_at_10']:.3f} | 95% recall after "
          f"{out['n_screened_95']} of {out['n']} | stopping rule (95% recall, 95% confidence): stop after "
          f"{out['stop_stopped_at']}, recall {out['stop_recall']:.3f}  [{secs:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
