"""``livingmeta status``: what the review looks like now."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from livingmeta.config import load
from livingmeta.errors import ReviewInputError
from livingmeta.jsonio import read_json
from livingmeta.living.lock import UpdateLock
from livingmeta.living.session import read_status, state_dir
from livingmeta.living.versions import publication_damage, published_versions
from livingmeta.plan import scan_review


def add_arguments(parser) -> None:
    parser.add_argument("--config", "--configfile", dest="configfile", default="config.yaml")


def _data_rows(path: Path) -> int | None:
    """The rows of a CSV file below its header; None when the workflow has not written it yet."""
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def collect(cfg: dict) -> dict:
    reports_dir, results_dir = Path(cfg["reports_dir"]), Path(cfg["results_dir"])
    plan = scan_review(cfg["review_dir"])
    versions = published_versions(reports_dir)
    last = read_json(reports_dir / versions[-1] / "results.json") if versions else {}
    published_studies = {s.get("study") for s in last.get("studies") or []}
    searches: dict[str, str] = {}
    for export in plan.exports:
        searches[export.source] = max(searches.get(export.source, ""), export.name)
    conflicts = None
    stop = None
    screening = results_dir / "records" / "screening.json"
    if screening.is_file():
        screened = read_json(screening)
        stop = screened.get("stopping")
        awaiting = (screened.get("counts") or {}).get("awaiting") or {}
        conflicts = {stage: int(counts.get("conflict") or 0) for stage, counts in awaiting.items()}
    return {
        "duplicate_pairs_to_review": _data_rows(results_dir / "records" / "dedup_review.csv"),
        "conflicts_to_resolve": conflicts,
        "last_version": versions[-1] if versions else None,
        "versions": len(versions),
        "last_search": searches,
        "records_waiting_for_screening": _data_rows(results_dir / "records" / "screening_queue.csv"),
        "studies": len(plan.studies),
        "studies_since_last_version": sorted(set(plan.studies) - published_studies) if versions else sorted(plan.studies),
        "stopping_rule": stop,
        "running": UpdateLock(state_dir(cfg) / "update.lock").held_by_other(),
        "last_update": read_status(cfg),
        "publication_damage": (publication_damage(reports_dir, results_dir / "report" / "published.json")
                               if (cfg.get("publish") or {}).get("enabled", True) else None),
    }


def run(args) -> int:
    try:
        cfg = load(args.configfile)
    except ReviewInputError as err:
        print(f"livingmeta: error: {err.format()}")
        return 1
    info = collect(cfg)
    last = info["last_update"]
    print(f"review:            {os.path.abspath(cfg['review_dir'])}")
    print(f"last version:      {info['last_version'] or 'none published yet'} ({info['versions']} published)")
    if info["publication_damage"]:
        print(f"publication:       {info['publication_damage']}; the next run makes and publishes the report again")
    for source, name in sorted(info["last_search"].items()):
        print(f"last search:       {source}: {name}")
    waiting = info["records_waiting_for_screening"]
    print(f"to screen:         {'unknown (run the workflow)' if waiting is None else f'{waiting} record(s)'}")
    pairs = info["duplicate_pairs_to_review"]
    print(f"duplicates:        {'unknown (run the workflow)' if pairs is None else f'{pairs} pair(s) to review'}"
          + (" in results/records/dedup_review.csv; decide them in review/screening/duplicates.csv" if pairs else ""))
    conflicts = info["conflicts_to_resolve"]
    if conflicts is None:
        print("conflicts:         unknown (run the workflow)")
    else:
        names = {"title_abstract": "title/abstract", "full_text": "full text"}
        order = [stage for stage in names if stage in conflicts] + sorted(set(conflicts) - set(names))
        stages = ", ".join(f"{names.get(stage, stage)} {conflicts[stage]}" for stage in order)
        print(f"conflicts:         {sum(conflicts.values())} between reviewers to resolve ({stages})")
    stop = info["stopping_rule"]
    if stop and stop.get("n_unscreened"):
        verdict = ("the rule allows stopping" if stop.get("may_stop") else "keep screening")
        print(f"stopping rule:     {verdict}: about {stop['estimated_remaining']:.0f} relevant record(s) probably "
              f"among the {stop['n_unscreened']} unscreened (at most {stop['remaining_upper']} at "
              f"{stop['confidence']:.0%} confidence; recall target {stop['recall_target']:.0%})")
    new = info["studies_since_last_version"]
    print(f"studies:           {info['studies']} ({len(new)} since the last version{': ' + ', '.join(new) if new else ''})")
    if info["running"]:
        print("update:            running now")
    elif last:
        what = f"`livingmeta {last['command']}`" if last.get("command") else "update"
        print(f"last run:          {what} {last.get('state')} at {last.get('finished') or last.get('started')}"
              + (f" — {'; '.join(last.get('problems') or [])}" if last.get("state") in BAD_STATES else ""))
    return 1 if last.get("state") in BAD_STATES and not info["running"] else 0


# states of the last run that need attention: `status` exits 1 until a run succeeds
BAD_STATES = ("failed", "interrupted", "fetch-failed")
