# Configuration, validation and the parse-time plan of the review folder.
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from snakemake.exceptions import WorkflowError

from livingmeta.config import resolve_paths, validate_config
from livingmeta.errors import ReviewInputError
from livingmeta.plan import scan_review
from livingmeta.plancache import PlanCache

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

# What planning learnt about each review file, kept between runs (livingmeta/plancache.py): unchanged files
# are not read again, so planning costs what changed, not the size of the review.
PLAN_CACHE = PlanCache(os.path.join(RESULTS, ".livingmeta", "plan-cache.json"))
PLAN = scan_review(REVIEW, cache=PLAN_CACHE)


def is_tool_file(tool):
    return str(tool).lower().endswith((".yaml", ".yml"))


# The risk-of-bias tool: a built-in id (syrcle, rob2, robins_i) or a review's own definition file, given
# relative to the working folder (never absolute: a copied or moved run folder must not look like changed
# params to Snakemake).
ROB_TOOL = next(os.path.relpath(Path(CONFIG_FILE).resolve().parent / t) if is_tool_file(t) else t
                for t in [CFG.get("risk_of_bias", {}).get("tool", "syrcle")])


def _stop_on_bad_inputs():
    """The planning-time checks (livingmeta/preflight.py): a bad input stops the run before any job starts."""
    from livingmeta import preflight
    from livingmeta.scripting import ERROR_PREFIX

    problems = preflight.problems(REVIEW, PLAN, default_measure=CFG["analysis"]["measure"], rob_tool=ROB_TOOL,
                                  cache=PLAN_CACHE)
    PLAN_CACHE.save()
    if problems:
        raise WorkflowError(f"{len(problems)} problem(s) in the review folder; nothing was run:\n"
                            + preflight.format_problems(problems, ERROR_PREFIX))


SCRIPTS = os.path.join(workflow.basedir, "scripts")


def code_of(script):
    """The digest of the livingmeta code that scripts/<script> runs (livingmeta/codedeps.py), a parameter of
    its rule: Snakemake re-runs a job when its rule's script changes but not when the library it imports
    does, so a livingmeta upgrade would leave results made by the old code. With it, an upgrade re-runs
    exactly the jobs whose code changed."""
    from livingmeta.codedeps import script_code_digest

    return script_code_digest(os.path.join(SCRIPTS, script))


def review_file(path):
    return os.path.join(REVIEW, path)


_stop_on_bad_inputs()


wildcard_constraints:
    source=r"[^/]+",
    name=r"[^/]+",
    study=r"[^/]+",
    analysis=r"[^/]+",


def res(path):
    """A path inside the results folder."""
    return os.path.join(RESULTS, path)


def analysis_files(kind):
    return [res(f"analyses/{a}/{kind}.json") for a in PLAN.analyses]


# The jobs of each rule with wildcards (rule name -> list of wildcard values). A new rule with wildcards
# must be listed here; every_product() says so if it is not.
def _wildcard_jobs():
    exports = [{"source": e.source, "name": e.name} for e in PLAN.exports]
    analyses = [{"analysis": a} for a in PLAN.analyses]
    return {
        "parse_export": exports,
        "analysis": analyses,
    }


def every_product():
    """Every output file of every job of the workflow but the report job's, from the rules' own output
    patterns: the inputs of the report job, the workflow's target (workflow/rules/report.smk).

    The report job asks for every intermediate product, not only those it reads. A job that fails loses its
    outputs (Snakemake deletes them), but the products downstream of it stay on disk; Snakemake treats a
    missing file that nothing downstream needs again as a removed temporary file and would report "Nothing
    to be done" on the next run: the failure would be forgotten and the bad input never checked again.
    Asking for every product makes any missing one (a failed or killed job, a file deleted by hand) be made
    again, and everything downstream of it re-run, so a failure is reported by every run until its cause is
    fixed, and nothing is published before. The jobs are in the graph anyway; this costs nothing.
    """
    jobs = _wildcard_jobs()
    out = []
    for rule in workflow.rules:
        if rule.name == "report" or (rule.name == "synthesis" and not synthesis_outputs()):
            continue
        # the global wildcard_constraints show in the patterns as {name,regex}: keep the name only
        patterns = [re.sub(r"\{(\w+),[^{}]*\}", r"{\1}", str(f)) for f in rule.output]
        if not any("{" in p for p in patterns):
            out += patterns
            continue
        if rule.name not in jobs:
            raise WorkflowError(f"livingmeta: internal error: rule {rule.name} has wildcards but is not listed "
                                "in _wildcard_jobs() (workflow/rules/common.smk)")
        out += [p.format(**wc) for wc in jobs[rule.name] for p in patterns]
    return out
