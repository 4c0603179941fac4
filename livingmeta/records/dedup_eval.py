"""Pairwise quality of a clustering against an answer key (bib-dedupe / Rathbone labelled sets).

The answer key (``merged_record_ids.csv``) has one row per duplicate cluster, record ids joined by ``;``;
records in no row are unique. Pairwise precision = correct duplicate pairs / predicted duplicate pairs,
recall = correct duplicate pairs / true duplicate pairs (pairs counted within clusters).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path


def read_answer_key(path: str | Path) -> list[list[str]]:
    clusters = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            if row and row[0].strip():
                clusters.append([x.strip() for x in row[0].split(";") if x.strip()])
    return clusters


def _pairs(groups) -> set[tuple[str, str]]:
    out = set()
    for members in groups:
        members = sorted(members)
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                out.add((members[i], members[j]))
    return out


def pairwise_scores(record_ids: list[str], cluster_ids: list[str], truth: list[list[str]]) -> dict:
    groups = defaultdict(list)
    for rid, cid in zip(record_ids, cluster_ids):
        groups[cid].append(rid)
    predicted = _pairs(g for g in groups.values() if len(g) > 1)
    known = set(record_ids)
    actual = _pairs([m for m in c if m in known] for c in truth)
    tp = len(predicted & actual)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(actual) if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"records": len(record_ids), "true_pairs": len(actual), "predicted_pairs": len(predicted),
            "true_positives": tp, "false_positives": len(predicted - actual), "false_negatives": len(actual - predicted),
            "precision": precision, "recall": recall, "f1": f1,
            "fp_pairs": sorted(predicted - actual), "fn_pairs": sorted(actual - predicted)}
