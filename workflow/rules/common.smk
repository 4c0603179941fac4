# Configuration, validation and the parse-time plan of the review folder.
import os
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from snakemake.exceptions import WorkflowError

from livingmeta.config import resolve_paths, validate_config
from livingmeta.errors import ReviewInputError
from livingmeta.plan import scan_review

_cli_configfiles = [str(p) for p in (workflow.overwrite_configfiles or [])]
CONFIG_FILE = _cli_configfiles[-1] if _cli_configfiles else "config.yaml"

# With --configfile, the review's own config replaces the example's config.yaml entirely (Snakemake would
# otherwise merge the two, and a review would inherit the example's subgroups); --config values still win.
_raw_config = dict(workflow.config_settings.overwrite_config) if _cli_configfiles else config

try:
    CFG = resolve_paths(validate_config(_raw_config, source=CONFIG_FILE), Path(CONFIG_FILE).resolve().parent)
except ReviewInputError as _err:
    raise WorkflowError("livingmeta: error: " + _err.format())

REVIEW = CFG["review_dir"]
RESULTS = CFG["results_dir"]
REPORTS = CFG["reports_dir"]
ANALYSIS = CFG["analysis"]

if not os.path.isdir(REVIEW):
    raise WorkflowError(
        f"livingmeta: error: {CONFIG_FILE}: review_dir: the review folder '{REVIEW}' does not exist. "
        "Point review_dir at a folder made by `livingmeta init DIR`."
    )

PLAN = scan_review(REVIEW)


def _stop_on_bad_study_files():
    """Validate every study file while planning: a bad one stops the run before any job starts."""
    from livingmeta.extraction.studyfile import problems_in_folder
    from livingmeta.scripting import ERROR_PREFIX

    problems = problems_in_folder(review_file("studies"), review_file("outcomes.yaml")) if PLAN.studies else []
    if problems:
        lines = "\n".join(ERROR_PREFIX + line for err in problems for line in err.format().splitlines())
        raise WorkflowError(
            f"{len(problems)} problem(s) in the study files; nothing was run:\n{lines}")


SCRIPTS = os.path.join(workflow.basedir, "scripts")


def review_file(path):
    return os.path.join(REVIEW, path)


_stop_on_bad_study_files()


wildcard_constraints:
    source=r"[^/]+",
    name=r"[^/]+",
    study=r"[^/]+",
    analysis=r"[^/]+",


def res(path):
    """A path inside the results folder."""
    return os.path.join(RESULTS, path)


def study_jsons(studies):
    return [res(f"studies/{s}.json") for s in studies]


def analysis_files(kind):
    return [res(f"analyses/{a}/{kind}.json") for a in PLAN.analyses]


def final_targets():
    if CFG["publish"]["enabled"]:
        return [res("report/published.json")]
    targets = [res("report/results.json"), res("report/report.html")]
    if CFG["report"]["pdf"]:
        targets.append(res("report/report.pdf"))
    return targets


def _cancel_rescheduling_timers():
    """Snakemake's job rate limit (default 100 jobs per second) re-checks the queue through a 1-second
    threading.Timer started after every scheduling round, and the interpreter waits for the last one
    before it exits: every run that executed jobs ended up to a second after its last job (a quarter of
    an add-one-study update). Once the workflow has finished nothing is left to schedule, so the pending
    timers are cancelled."""
    import threading

    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


def _no_pandas_in_this_process():
    """Snakemake's own process imports pandas (~0.2 s of every run, a no-op included) only to check
    whether a rule's params are DataFrames, when it records params and again when it hands them to a
    script; where pandas is not importable it skips both checks (its supported path). No param of this
    workflow is a pandas object and nothing in this process uses pandas, so it is marked unavailable here.
    Jobs run in their own processes, unaffected; a process that already imported pandas keeps it."""
    import sys

    sys.modules.setdefault("pandas", None)


def _freeze_heap_at_exit():
    """At exit the interpreter garbage-collects everything Snakemake built (~0.3 s of pure CPU after the
    last job). Nothing needs finalising by the collector then (files and the metadata are closed
    explicitly), so the heap is frozen first and the process ends at once."""
    import atexit
    import gc

    atexit.register(gc.freeze)


_no_pandas_in_this_process()
_freeze_heap_at_exit()


onsuccess:
    _cancel_rescheduling_timers()


onerror:
    _cancel_rescheduling_timers()
