"""Glue for the thin scripts that Snakemake rules run.

A script calls ``run_job(snakemake, main)``; ``main(snakemake)`` does the work through the library.
Bad review input (``ReviewInputError``) becomes one line on stderr and in the job's log, prefixed with
``livingmeta: error:``, and the job exits with status 1 and no traceback.
"""

from __future__ import annotations

import gc
import sys
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


def run_job(smk: Any, main: Callable[[Any], None]) -> None:
    log_path = str(smk.log[0]) if getattr(smk, "log", None) else None
    if log_path:
        open(log_path, "w").close()
    try:
        main(smk)
    except ReviewInputError as err:
        report_error(err, log_path)
        sys.exit(1)
    finally:
        # The job's outputs are written and closed: spare the interpreter's final garbage collection of
        # everything imported (60-100 ms per job, most of a small job's own run time).
        gc.freeze()
