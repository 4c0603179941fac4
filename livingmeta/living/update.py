"""The unattended update that cron runs: lock, recover, fetch, run the workflow, one-line summary.

The run itself (lock over the whole process tree, recovery from a killed run, status.json) is
:func:`livingmeta.living.session.supervised_run`, shared with `livingmeta run`. State lives in
``<results_dir>/.livingmeta/``: ``update.lock`` and ``status.json``. Each run's full Snakemake output is
kept in ``<results_dir>/logs/runs/<UTC timestamp>.log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.jsonio import read_json, write_json
from livingmeta.living.changes import what_changed
from livingmeta.living.session import read_status, status_path, supervised_run
from livingmeta.living.versions import published_versions

@dataclass
class UpdateOutcome:
    status: int          # exit status for cron: 0 success, nothing to do or already running; 1 failure
    summary: str         # one line for cron's mail
    log: str | None = None


def _change_summary(reports_dir: Path, version: str) -> str:
    versions = published_versions(reports_dir)
    if version not in versions:
        return f"published {version}"
    at = versions.index(version)
    current = read_json(reports_dir / version / "results.json")
    previous = read_json(reports_dir / versions[at - 1] / "results.json") if at > 0 else None
    diff = what_changed(previous, current)
    parts = []
    if diff["studies_added"]:
        parts.append(f"{len(diff['studies_added'])} new stud{'y' if len(diff['studies_added']) == 1 else 'ies'}")
    if diff["studies_removed"]:
        parts.append(f"{len(diff['studies_removed'])} stud{'y' if len(diff['studies_removed']) == 1 else 'ies'} "
                     f"removed: {', '.join(diff['studies_removed'])}")
    if diff["studies_corrected"]:
        parts.append(f"{len(diff['studies_corrected'])} corrected")
    changed = [a for a in diff["analyses"] if a["status"] in ("new", "changed")]
    if previous is not None and changed:
        parts.append(f"{len(changed)} analyses changed")
    regraded = [a["analysis"] for a in diff["analyses"] if a.get("certainty_changed")]
    if regraded:
        parts.append("certainty to sign off: " + ", ".join(regraded))
    flips = [a["analysis"] for a in diff["analyses"] if a["conclusion_changed"]]
    if flips:
        parts.append("conclusion changed: " + ", ".join(flips))
    return f"published {version}" + (f" ({'; '.join(parts)})" if parts else "")


def what_happened(session, reports_dir: Path) -> str:
    """One phrase for a run that succeeded: what it published, or that nothing changed."""
    if session.nothing_to_do or not session.jobs:
        return "no changes"
    published = session.published or {}
    if published.get("restored"):
        return f"restored the publication of {published.get('version')} (reports/latest and the index)"
    if published.get("unchanged"):
        return (f"re-checked {len(session.jobs)} job(s); nothing a reader sees changed, "
                f"{published.get('version')} stays the latest version")
    if published.get("version"):
        return _change_summary(reports_dir, published["version"])
    return f"ran {len(session.jobs)} job(s)"


def update(cfg: dict, *, configfile: str | None, cores: str = "all", fetch: bool = True,
           echo: bool = False, extra: list[str] | None = None) -> UpdateOutcome:
    fetched: list[str] = []
    fetch_failed: list[str] = []

    def before() -> list[str]:
        if fetch:
            summary, failure = _maybe_fetch(cfg, configfile)
            if summary:
                fetched.append(summary)
            if failure:
                fetch_failed.append(failure)
        return []

    try:
        session = supervised_run(cfg, configfile=configfile, cores=cores, extra=extra, echo=echo,
                                 command="update", before=before)
    except ReviewInputError as err:
        _record_failure(cfg, err.format())
        return UpdateOutcome(1, f"livingmeta update: FAILED ({err.format()}); nothing published")
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        return UpdateOutcome(1, f"livingmeta update: FAILED (cannot write the results folder {cfg['results_dir']}: "
                                f"{err.strerror or err}{where}; make it writable); nothing published")
    if session.state == "busy":
        return UpdateOutcome(0, f"livingmeta update: {session.problems[0]}; nothing done")
    prefix = "; ".join(fetched) + "; " if fetched else ""
    if session.state != "ok":
        what = "STOPPED" if session.state == "interrupted" else "FAILED"
        detail = " | ".join(session.problems) or "workflow error"
        count = f"{len(session.problems)} problem(s): " if session.state == "failed" else ""
        return UpdateOutcome(1, f"livingmeta update: {prefix}{what} ({count}{detail}); nothing published; "
                                f"log: {session.log}", session.log)
    summary = f"livingmeta update: {prefix}{what_happened(session, Path(cfg['reports_dir']))}"
    if fetch_failed:
        _mark_fetch_failed(cfg, fetch_failed)
    return UpdateOutcome(1 if fetch_failed else 0, summary, session.log)


def _record_failure(cfg: dict, problem: str) -> None:
    """A failure before the workflow ran (bad fetch settings): recorded so that `status` reports it."""
    from livingmeta.living.session import now

    try:
        write_json(status_path(cfg), {"state": "failed", "command": "update", "finished": now(),
                                      "problems": [problem]})
    except OSError:
        pass


def _mark_fetch_failed(cfg: dict, failures: list[str]) -> None:
    status = read_status(cfg)
    status.update({"state": "fetch-failed", "problems": failures + list(status.get("problems") or [])})
    write_json(status_path(cfg), status)


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
    except Exception as err:  # noqa: BLE001 (a fetch bug must not stop the update nor leak its message)
        failure = f"unexpected {type(err).__name__} in the PubMed fetch; nothing was written; please report it"
        return f"PubMed fetch FAILED ({failure})", failure
    return f"PubMed: {result.written} new record(s)", None
