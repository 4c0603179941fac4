"""Glue for the thin scripts that Snakemake rules run.

A script calls ``run_job(snakemake, main)``; ``main(snakemake)`` does the work through the library.
Bad review input (``ReviewInputError``) becomes one line on stderr and in the job's log, prefixed with
``livingmeta: error:``, and the job exits with status 1 and no traceback. Any other exception is a
fault of livingmeta or of the machine (a bug, a full disk, memory): its traceback goes to the job's log,
and one line naming the rule, the exception and the log goes to stderr with the same prefix, so that the
cause reaches `livingmeta run`'s and `update`'s summary. A job stopped by SIGTERM (the run was cancelled)
exits quietly.
"""

from __future__ import annotations

import errno
import gc
import signal
import sys
import traceback
from typing import Any, Callable

from livingmeta.errors import ReviewInputError

ERROR_PREFIX = "livingmeta: error: "


def report_error(err: ReviewInputError, log_path: str | None = None) -> None:
    lines = [ERROR_PREFIX + line for line in err.format().splitlines()]
    text = "\n".join(lines) + "\n"
    sys.stderr.write(text)
    if log_path:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(text)


# errors of the machine, not of livingmeta or of the review: errno -> (what failed, what to do)
MACHINE_ERRORS = {
    errno.ENOSPC: ("cannot write", "Free space on that disk (or set results_dir / reports_dir to a folder on "
                                   "another one)"),
    errno.EDQUOT: ("cannot write", "Free space within your disk quota (or set results_dir / reports_dir to "
                                   "another folder)"),
    errno.EROFS: ("cannot write", "Set results_dir / reports_dir to a folder on a writable file system"),
    errno.EACCES: ("cannot open", "Give the user who runs livingmeta access to it"),
    errno.EPERM: ("cannot open", "Give the user who runs livingmeta access to it"),
}


def machine_error_line(err: BaseException, rule: str) -> str | None:
    """One line for a job stopped by the machine (a full disk, a read-only file system, a permission):
    the file, the system's words and what to do; None for any other error."""
    if not isinstance(err, OSError) or err.errno not in MACHINE_ERRORS:
        return None
    verb, advice = MACHINE_ERRORS[err.errno]
    target = err.filename2 if err.filename2 is not None else err.filename
    where = f" {target}" if target is not None else ""
    return f"{ERROR_PREFIX}rule {rule}: {verb}{where}: {err.strerror or err}. {advice}, then run again.\n"


def report_crash(err: BaseException, rule: str, log_path: str | None = None) -> None:
    """An unexpected exception: the traceback to the log, one line (the cause) to stderr and the log."""
    where = f"; the traceback is in {log_path}" if log_path else ""
    cause = f"{type(err).__name__}: {err}".strip().splitlines()[0] if str(err) else type(err).__name__
    line = machine_error_line(err, rule) or (
        f"{ERROR_PREFIX}rule {rule}: the job stopped on an unexpected error ({cause}){where}. "
        "If the message does not point at an input file, this is a livingmeta bug: please report it "
        "with the log.\n")
    detail = "".join(traceback.format_exception(err))
    if log_path:
        try:
            with open(log_path, "a", encoding="utf-8") as handle:
                handle.write(detail + line)
        except OSError:
            sys.stderr.write(detail)
    else:
        sys.stderr.write(detail)
    sys.stderr.write(line)


def _exit_quietly_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def run_job(smk: Any, main: Callable[[Any], None]) -> None:
    log_path = str(smk.log[0]) if getattr(smk, "log", None) else None
    rule = str(getattr(smk, "rule", "") or "?")
    if log_path:
        open(log_path, "w").close()
    _exit_quietly_on_sigterm()
    try:
        main(smk)
    except ReviewInputError as err:
        report_error(err, log_path)
        sys.exit(1)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as err:  # noqa: BLE001 (every other failure must reach the log and the summary)
        report_crash(err, rule, log_path)
        sys.exit(1)
    finally:
        # The job's outputs are written and closed: spare the interpreter's final garbage collection of
        # everything imported (60-100 ms per job, most of a small job's own run time).
        gc.freeze()


def log_counts(smk: Any, what: str, counts: dict) -> None:
    """One line in the job's log: how many per-study documents the job derived and how many it took from
    the content cache (``livingmeta.extraction.documents``)."""
    if getattr(smk, "log", None):
        with open(str(smk.log[0]), "a", encoding="utf-8") as handle:
            handle.write(f"{what} documents: {counts.get('derived', 0)} derived, "
                         f"{counts.get('cached', 0)} from the cache\n")
