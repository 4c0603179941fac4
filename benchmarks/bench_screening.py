"""Simulated screening with the relevance ranker on a labelled title/abstract data set.

Prints WSS@95 and recall after 10% screened (per seed and the mean) with the settings used.
Data: ../shared/data/screening/Bannach-Brown_2019.csv (1,993 records, 280 included; Bannach-Brown et al.
2019, Systematic Reviews 8:23; ASReview systematic-review-datasets, MIT). Target: WSS@95 >= 0.60.

    .venv/bin/python benchmarks/bench_screening.py                 # defaults (the screening job's model)
    .venv/bin/python benchmarks/bench_screening.py --model naive_bayes --seeds 5 --batch 20

Figures (2-core machine, defaults, 3 seeds, ~20 s per simulation; 2026-11):
    all 1,993 records:              WSS@95 = 0.490 (0.484-0.495), recall after 10% screened = 0.494
    1,599 records with an abstract: WSS@95 = 0.625 (0.618-0.630), recall after 10% screened = 0.501
Naive Bayes (--model naive_bayes) is ~50x faster and a little worse (all records: WSS@95 ~0.45).

Figures are printed for all records and for the records that have an abstract (the ASReview simulation
study removed records without one): 394 of the 1,993 records have no abstract, and they hold most of
the includes that any title/abstract model finds last.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from livingmeta.records.ranking import simulate  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "screening" / "Bannach-Brown_2019.csv"


def load(path: Path):
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [" ".join(filter(None, (r.get("title"), r.get("abstract")))) for r in rows]
    labels = [str(r["label_included"]).strip() in ("1", "1.0", "True", "true") for r in rows]
    has_abstract = [bool((r.get("abstract") or "").strip()) for r in rows]
    return texts, labels, has_abstract


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--model", choices=["logistic", "naive_bayes"], default="logistic")
    ap.add_argument("--C", type=float, default=100.0, help="inverse L2 penalty of the logistic model")
    ap.add_argument("--ngram-max", type=int, default=2)
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--batch", type=int, default=10, help="records screened between refits")
    ap.add_argument("--prior-included", type=int, default=1)
    ap.add_argument("--prior-excluded", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=3, help="number of random prior sets (seeds 0..n-1)")
    ap.add_argument("--subset", choices=["both", "all", "with-abstract"], default="both",
                    help="all records, only records with an abstract (the preprocessing of the ASReview "
                         "simulation study, Ferdinands et al. 2020), or both (default)")
    args = ap.parse_args(argv)

    texts, labels, has_abstract = load(args.data)
    print(f"data: {args.data.name}: {len(texts)} records, {sum(labels)} included; "
          f"{len(texts) - sum(has_abstract)} records without an abstract "
          f"({sum(1 for y, a in zip(labels, has_abstract) if y and not a)} of them included)")
    print(f"settings: model={args.model} C={args.C:g} ngram_max={args.ngram_max} min_df={args.min_df} "
          f"batch={args.batch} prior={args.prior_included} included + {args.prior_excluded} excluded (random); "
          f"TF-IDF sublinear tf, smooth idf, L2 norm, text = title + abstract; refit after every batch; "
          f"seeds 0..{args.seeds - 1}")
    subsets = ["all", "with-abstract"] if args.subset == "both" else [args.subset]
    for subset in subsets:
        keep = [i for i in range(len(texts)) if subset == "all" or has_abstract[i]]
        sub_texts, sub_labels = [texts[i] for i in keep], [labels[i] for i in keep]
        print(f"== {subset}: {len(sub_texts)} records, {sum(sub_labels)} included")
        wss, rec = [], []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            out = simulate(sub_texts, sub_labels, model=args.model, C=args.C, ngram_max=args.ngram_max,
                           min_df=args.min_df, batch=args.batch, n_prior_included=args.prior_included,
                           n_prior_excluded=args.prior_excluded, seed=seed)
            wss.append(out["wss95"])
            rec.append(out["recall_at_10"])
            print(f"seed {seed}: WSS@95 = {out['wss95']:.3f} (95% recall after {out['n_screened_95']} of "
                  f"{out['n']}), recall after 10% screened = {out['recall_at_10']:.3f}  "
                  f"[{time.perf_counter() - t0:.1f} s]")
        print(f"{subset}: mean WSS@95 = {statistics.mean(wss):.3f} (min {min(wss):.3f}), "
              f"recall after 10% screened = {statistics.mean(rec):.3f} (min {min(rec):.3f}); target WSS@95 >= 0.60")


if __name__ == "__main__":
    main()
