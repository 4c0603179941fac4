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

try:
    CFG = resolve_paths(validate_config(config, source=CONFIG_FILE), Path(CONFIG_FILE).resolve().parent)
except ReviewInputError as _err:
    raise WorkflowError(_err.format())

REVIEW = CFG["review_dir"]
RESULTS = CFG["results_dir"]
REPORTS = CFG["reports_dir"]
ANALYSIS = CFG["analysis"]

if not os.path.isdir(REVIEW):
    raise WorkflowError(
        f"{CONFIG_FILE}: review_dir: the review folder '{REVIEW}' does not exist. "
        "Point review_dir at a folder made by `livingmeta init DIR`."
    )

PLAN = scan_review(REVIEW)
SCRIPTS = os.path.join(workflow.basedir, "scripts")


wildcard_constraints:
    source=r"[^/]+",
    name=r"[^/]+",
    study=r"[^/]+",
    analysis=r"[^/]+",


def res(path):
    """A path inside the results folder."""
    return os.path.join(RESULTS, path)


def review_file(path):
    return os.path.join(REVIEW, path)


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
