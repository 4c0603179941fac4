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
    for r in results:
        r[3].pop("order", None)
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


def _print_row(r):
    name, model, seed, out, secs = r
    out = {k: v for k, v in out.items() if k != "order"}
    print(f"{name:24s} {model:14s} seed {seed}: WSS@95 {out['wss95']:.3f} | asreview-insights "
          f"{out['wss95_asreview']:.3f} | recall@10% {out['recall_at_10']:.3f} | 95% recall after "
          f"{out['n_screened_95']} of {out['n']} | stopping rule (95% recall, 95% confidence): stop after "
          f"{out['stop_stopped_at']}, recall {out['stop_recall']:.3f}  [{secs:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
