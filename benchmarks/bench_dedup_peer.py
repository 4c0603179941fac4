"""Deduplication quality against a peer: bib-dedupe (CoLRev), the Python library its own continuous
evaluation ranks first, on the same labelled sets and with the same pairwise scoring as bench_dedup.py.

bib-dedupe is a peer for this benchmark, not a dependency of livingmeta: install it in a separate
environment and pass that interpreter::

    python3 -m venv /tmp/bibdedupe && /tmp/bibdedupe/bin/pip install bib-dedupe==0.11.0
    .venv/bin/python benchmarks/bench_dedup_peer.py --peer-python /tmp/bibdedupe/bin/python

Without ``--peer-python`` it prints how to run it and stops. Prints, per set, pairwise precision /
recall / false pairs / missed pairs of livingmeta and of bib-dedupe, and the seconds each takes (bib-dedupe:
prep + block + match + cluster, 2 processes).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livingmeta.records.dedup import deduplicate
from livingmeta.records.dedup_eval import pairwise_scores

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dedup import DATA, SETS, load_set  # noqa: E402

# run by the peer's interpreter: read the set's CSV, write record_id,cluster_id
PEER_SCRIPT = r"""
import sys, time
import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, prep
source, out = sys.argv[1], sys.argv[2]
df = pd.read_csv(source)
start = time.perf_counter()
pairs = block(prep(df, cpu=2), cpu=2)
groups = cluster(match(pairs, cpu=2))
seconds = time.perf_counter() - start
cluster_of = {rid: f"c{k}" for k, members in enumerate(groups) for rid in members}
with open(out, "w") as handle:
    handle.write("record_id,cluster_id\n")
    for rid in df["ID"]:
        handle.write(f"{rid},{cluster_of.get(rid, rid)}\n")
print(f"{seconds:.2f}")
"""


def run_peer(python: str, name: str, workdir: Path) -> tuple[list[str], list[str], float]:
    out = workdir / f"{name}.csv"
    done = subprocess.run([python, "-c", PEER_SCRIPT, str(DATA / name / "records_pre_merged.csv"), str(out)],
                          capture_output=True, text=True, check=True)
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["record_id"] for r in rows], [r["cluster_id"] for r in rows], float(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", help="an interpreter with bib-dedupe installed")
    args = parser.parse_args(argv)
    if not args.peer_python:  # `make bench` runs every script without arguments
        print("bib-dedupe comparison skipped: pass --peer-python (see the docstring of this script)")
        return 0
    print(f"{'set':20s} {'tool':11s} {'precision':>9s} {'recall':>7s} {'FP':>4s} {'FN':>4s} {'seconds':>7s}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in SETS:
            records, truth = load_set(name)
            start = time.perf_counter()
            result = deduplicate(records)
            ours = (result.record_ids, result.cluster_ids, time.perf_counter() - start)
            for tool, (ids, clusters, seconds) in (("livingmeta", ours),
                                                   ("bib-dedupe", run_peer(args.peer_python, name, Path(tmp)))):
                s = pairwise_scores(ids, clusters, truth)
                print(f"{name:20s} {tool:11s} {s['precision']:9.4f} {s['recall']:7.4f} {s['false_positives']:4d} "
                      f"{s['false_negatives']:4d} {seconds:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
