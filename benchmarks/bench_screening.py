"""Simulated screening with the relevance ranker on a labelled title/abstract data set.

Prints WSS@95 and recall after 10% screened (per seed and the mean) with the settings used.
Data: ../shared/data/screening/Bannach-Brown_2019.csv (1,993 records, 280 included; Bannach-Brown et al.
2019, Systematic Reviews 8:23; ASReview systematic-review-datasets, MIT). Target: WSS@95 >= 0.60.

    .venv/bin/python benchmarks/bench_screening.py                 # defaults (the screening job's model)
    .venv/bin/python benchmarks/bench_screening.py --seeds 8 --subset all
    .venv/bin/python benchmarks/bench_screening.py --features word --C 100   # the previous model

Protocol (ASReview-style simulation): prior knowledge = 1 include + 1 exclude drawn at random per seed;
then the model is refitted on the labels of the records screened so far only and the 10 highest-ranked
unscreened records are screened next (certainty-based "max" query), until every record is screened.
TF-IDF is fitted once on all texts, without labels. WSS@95 = (N - records screened when 95% of the
includes were found) / N - 0.05 (Cohen et al. 2006; the prior records count as screened).

Figures (2-core machine shared with other jobs, defaults, seeds 0-7, ~15 s per simulation; 2026-11):
    default (char 3-5-grams, logistic C = 1), all 1,993 records, seeds 0-7:
        WSS@95 = 0.622 (0.596-0.642), recall after 10% screened = 0.520
    seeds 0-2: all records 0.627 (0.615-0.642), recall@10% 0.485; 1,599 with an abstract 0.654
    previous model (--features word --C 100: words + word pairs), all records, seeds 0-2:
        WSS@95 = 0.490 (0.484-0.495), recall after 10% screened = 0.494
Naive Bayes (--model naive_bayes) is faster and worse (word features, all records: WSS@95 ~0.48).

Figures are printed for all records and for the records that have an abstract (the ASReview simulation
study removed records without one): 394 of the 1,993 records have no abstract (29 of them included),
and they hold most of the includes that any title/abstract model finds last. Character n-grams help
most there: a title shares stems ("antidepress", "depress", drug name stems) with the abstracts of
the includes even where it shares no whole word.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread: the refits are many small dense products, and on a shared 2-core machine several
# BLAS threads make them several times slower (set before numpy is imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from livingmeta.records.ranking import simulate  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "screening" / "Bannach-Brown_2019.csv"


def load(path: Path):
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # the fields the screening job ranks on (title + abstract + keywords, when the file has them);
    # authors and year were tried and made WSS@95 worse
    texts = [" ".join(filter(None, (r.get("title"), r.get("abstract"), r.get("keywords")))) for r in rows]
    labels = [str(r["label_included"]).strip() in ("1", "1.0", "True", "true") for r in rows]
    has_abstract = [bool((r.get("abstract") or "").strip()) for r in rows]
    return texts, labels, has_abstract


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--model", choices=["logistic", "naive_bayes"], default="logistic")
    ap.add_argument("--features", choices=["char", "word"], default="char",
                    help="char: character n-grams within words (default 3-5); word: words + word pairs (1-2)")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 penalty of the logistic model")
    ap.add_argument("--ngram-min", type=int, default=None, help="default 3 (char) or 1 (word)")
    ap.add_argument("--ngram-max", type=int, default=None, help="default 5 (char) or 2 (word)")
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
    from livingmeta.records.ranking import FEATURES

    ngram = FEATURES[args.features][1]
    ngram = (args.ngram_min or ngram[0], args.ngram_max or ngram[1])
    print(f"settings: model={args.model}" + (f" C={args.C:g} (class-balanced)" if args.model == "logistic" else "")
          + f" features={args.features} ngram={ngram[0]}-{ngram[1]} min_df={args.min_df} "
          f"batch={args.batch} prior={args.prior_included} included + {args.prior_excluded} excluded (random); "
          f"TF-IDF sublinear tf, smooth idf, L2 norm, text = title + abstract (+ keywords); query = highest "
          f"score (max); refit on the screened records after every batch; seeds 0..{args.seeds - 1}")
    subsets = ["all", "with-abstract"] if args.subset == "both" else [args.subset]
    for subset in subsets:
        keep = [i for i in range(len(texts)) if subset == "all" or has_abstract[i]]
        sub_texts, sub_labels = [texts[i] for i in keep], [labels[i] for i in keep]
        print(f"== {subset}: {len(sub_texts)} records, {sum(sub_labels)} included")
        wss, rec = [], []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            out = simulate(sub_texts, sub_labels, model=args.model, C=args.C, features=args.features,
                           ngram=ngram, min_df=args.min_df, batch=args.batch, n_prior_included=args.prior_included,
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
