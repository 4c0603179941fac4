"""The unattended update that cron runs: lock, recover, fetch, run the workflow, summarise.

State lives in ``<results_dir>/.livingmeta/``: ``update.lock`` (held while an update runs) and
``status.json`` (the last update's outcome). Each update's full Snakemake output is kept in
``<results_dir>/logs/runs/<UTC timestamp>.log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.jsonio import read_json, write_json
from livingmeta.living.changes import what_changed
from livingmeta.living.lock import AlreadyLocked, UpdateLock
from livingmeta.living.runner import nothing_to_do, problems_in, run_snakemake, snakemake_command
from livingmeta.living.versions import published_versions


@dataclass
class UpdateOutcome:
    status: int          # exit status for cron: 0 success or nothing to do or already running, 1 failure
    summary: str         # one line for cron's mail
    log: str | None = None


def state_dir(cfg: dict) -> Path:
    return Path(cfg["results_dir"]) / ".livingmeta"


def read_status(cfg: dict) -> dict:
    path = state_dir(cfg) / "status.json"
    try:
        return read_json(path)
    except (FileNotFoundError, ValueError):
        return {}


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _change_summary(reports_dir: Path) -> str:
    versions = published_versions(reports_dir)
    if not versions:
        return ""
    current = read_json(reports_dir / versions[-1] / "results.json")
    previous = read_json(reports_dir / versions[-2] / "results.json") if len(versions) > 1 else None
    diff = what_changed(previous, current)
    parts = []
    if diff["studies_added"]:
        parts.append(f"{len(diff['studies_added'])} new stud{'y' if len(diff['studies_added']) == 1 else 'ies'}")
    if diff["studies_corrected"]:
        parts.append(f"{len(diff['studies_corrected'])} corrected")
    changed = [a for a in diff["analyses"] if a["status"] in ("new", "changed")]
    if previous is not None and changed:
        parts.append(f"{len(changed)} analyses changed")
    flips = [a["analysis"] for a in diff["analyses"] if a["conclusion_changed"]]
    if flips:
        parts.append("conclusion changed: " + ", ".join(flips))
    return f"published {versions[-1]}" + (f" ({'; '.join(parts)})" if parts else "")


def update(cfg: dict, *, configfile: str | None, cores: str = "all", fetch: bool = True,
           echo: bool = False, extra: list[str] | None = None) -> UpdateOutcome:
    results_dir = Path(cfg["results_dir"])
    reports_dir = Path(cfg["reports_dir"])
    lock = UpdateLock(state_dir(cfg) / "update.lock")
    try:
        lock.acquire()
    except AlreadyLocked as held:
        return UpdateOutcome(0, f"livingmeta update: another update is running ({held.holder}); nothing done")
    started = _now()
    log_path = results_dir / "logs" / "runs" / (started.replace(":", "").replace("+0000", "Z") + ".log")
    status_path = state_dir(cfg) / "status.json"
    try:
        write_json(status_path, {"state": "running", "started": started, "log": str(log_path)})
        fetched, fetch_failed = _maybe_fetch(cfg, configfile) if fetch else ("", None)
        # We hold the update lock, so a Snakemake lock left in this folder is stale: an earlier run was
        # killed. Remove it; --rerun-incomplete (always on) then redoes the jobs it left incomplete.
        run_snakemake(snakemake_command(configfile=configfile, cores=cores, extra=["--unlock"]),
                      log_path=log_path, echo=False)
        code, text = run_snakemake(snakemake_command(configfile=configfile, cores=cores, extra=extra),
                                   log_path=log_path, echo=echo)
        if code != 0:
            problems = problems_in(text)
            detail = f"{len(problems)} input problem(s): " + " | ".join(problems) if problems else "workflow error"
            summary = f"livingmeta update: FAILED ({detail}); nothing published; log: {log_path}"
            write_json(status_path, {"state": "failed", "started": started, "finished": _now(),
                                     "log": str(log_path), "problems": problems})
            return UpdateOutcome(1, summary, str(log_path))
        what = "no changes" if nothing_to_do(text) else _change_summary(reports_dir)
        summary = f"livingmeta update: {fetched + '; ' if fetched else ''}{what}"
        versions = published_versions(reports_dir)
        state = "fetch-failed" if fetch_failed else "ok"
        write_json(status_path, {"state": state, "started": started, "finished": _now(), "log": str(log_path),
                                 "version": versions[-1] if versions else None, "summary": summary,
                                 "problems": [fetch_failed] if fetch_failed else []})
        return UpdateOutcome(1 if fetch_failed else 0, summary, str(log_path))
    except ReviewInputError as err:
        write_json(status_path, {"state": "failed", "started": started, "finished": _now(), "log": str(log_path),
                                 "problems": [err.format()]})
        return UpdateOutcome(1, f"livingmeta update: FAILED ({err.format()}); nothing published", str(log_path))
    finally:
        lock.release()


def _maybe_fetch(cfg: dict, configfile: str | None) -> tuple[str, str | None]:
    """Fetch new PubMed records when the review enables it. Returns (summary, failure or None).

    A failed fetch leaves nothing behind (the fetcher writes atomically); the update still runs the
    workflow on what the review folder holds, and reports the failure in its summary and exit status.
    Bad fetch settings are a ReviewInputError and stop the update.
    """
    from livingmeta.living import pubmed

    settings = pubmed.pubmed_settings(cfg["review_dir"], cfg, config_file=str(configfile or "config.yaml"))
    if not pubmed.pubmed_enabled(settings):
        return "", None
    try:
        result = pubmed.fetch_pubmed(cfg["review_dir"], settings)
    except pubmed.FetchError as err:
        return f"PubMed fetch FAILED ({err})", str(err)
    return f"PubMed: {result.written} new record(s)", None
