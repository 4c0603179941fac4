"""Living-review update: does training on every earlier decision rank the new records well from the start?

Each shared labelled set is split by publication order into an "earlier version" (the oldest
``--earlier`` share of records, by year, then PubMed id or file order; all of them screened, their
decisions known) and an "update" (the newest records, to be screened now). Two ways to screen the update:

* ``living``: the model is trained on every earlier decision and, as the update is screened, on the
  update's decisions too (``simulate(..., prior=<all earlier records>)``): what the screening job does;
* ``cold``: the update is screened as a new review, from 1 include + 1 exclude of the update (random,
  per seed).

Printed per set and model: WSS@95 (asreview-insights definition, on the update's records only),
recall after 10 % of the update screened, records of the update screened to 95 % recall of its includes.

    .venv/bin/python benchmarks/bench_living_update.py                  # default model (elas_u4), 3 seeds for cold
    .venv/bin/python benchmarks/bench_living_update.py --models elas_u4 union_svm ensemble_svm --earlier 0.7
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_screening import DATA, SETS  # noqa: E402


def load_with_order(path: Path):
    import csv

    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def num(v):
        try:
            return float(v)
        except (TypeError, ValueError):
            return math.inf

    key = [(num(r.get("year")), num(r.get("pubmedID")), i) for i, r in enumerate(rows)]
    order = sorted(range(len(rows)), key=key.__getitem__)
    texts = [" ".join(filter(None, ((r.get("title") or "").strip(), (r.get("abstract") or "").strip()))) for r in rows]
    labels = [str(r["label_included"]).strip() in ("1", "1.0", "True", "true") for r in rows]
    return [texts[i] for i in order], [labels[i] for i in order]


def update_metrics(order, labels, n_earlier, n_prior_update=0):
    """Metrics on the update only: ``order`` is the full screening order (earlier records first)."""
    from livingmeta.records.ranking import screening_metrics

    upd = [i for i in order if i >= n_earlier]
    return screening_metrics([i - n_earlier for i in upd], labels[n_earlier:], n_prior=n_prior_update)


def main(argv=None):
    from livingmeta.records.ranking import DEFAULT_MODEL, MODELS, make_vectorizer, simulate

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=[DEFAULT_MODEL])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--earlier", type=float, default=0.7, help="share of records (oldest first) in the earlier version")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the cold start's 1 + 1 priors")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--growth", type=float, default=0.05)
    args = ap.parse_args(argv)
    print(f"earlier version = oldest {args.earlier:.0%} of each set (all screened); update = the rest; batch "
          f"{args.batch}, growth {args.growth:g}; WSS@95 = asreview-insights definition on the update's records")
    for name in args.sets:
        texts, labels = load_with_order(DATA / SETS[name])
        n_e = int(round(args.earlier * len(texts)))
        upd_inc = sum(labels[n_e:])
        print(f"== {name}: {len(texts)} records; earlier {n_e} ({sum(labels[:n_e])} included), update "
              f"{len(texts) - n_e} ({upd_inc} included)")
        if upd_inc < 2 or sum(labels[:n_e]) < 1:
            print("   too few includes in the update or the earlier version: skipped")
            continue
        for model in args.models:
            mats = {k: make_vectorizer(k, len(texts)).fit_transform(texts).tocsr()
                    for k in {c.features for c in MODELS[model]}}
            t0 = time.perf_counter()
            out = simulate(texts, labels, model=model, prior=list(range(n_e)), batch=args.batch,
                           growth=args.growth, matrices=mats)
            m = update_metrics(out["order"], labels, n_e)
            print(f"   {model:14s} living: WSS@95 {m['wss95_asreview']:.3f} | recall@10% {m['recall_at_10']:.3f} | "
                  f"95% recall after {m['n_screened_95']} of {m['n']}  [{time.perf_counter() - t0:.0f} s]", flush=True)
            u_texts, u_labels = texts[n_e:], labels[n_e:]
            u_mats = {k: v[n_e:] for k, v in mats.items()}
            cold = []
            for seed in range(args.seeds):
                o = simulate(u_texts, u_labels, model=model, seed=seed, batch=args.batch, growth=args.growth,
                             matrices=u_mats)
                cold.append(o)
            print(f"   {model:14s} cold:   WSS@95 {statistics.mean(o['wss95_asreview'] for o in cold):.3f} "
                  f"(min {min(o['wss95_asreview'] for o in cold):.3f}) | recall@10% "
                  f"{statistics.mean(o['recall_at_10'] for o in cold):.3f} | 95% recall after "
                  f"{statistics.mean(o['n_screened_95'] for o in cold):.0f} of {len(u_texts)} "
                  f"(seeds 0..{args.seeds - 1}, 1 + 1 priors of the update)", flush=True)


if __name__ == "__main__":
    main()
