"""The Snakemake profiles in workflow/profiles/: the SLURM profile names every rule of the workflow and its
plumbing (per-rule resources, bundles of small jobs, local rules) works when run through Snakemake's
generic cluster executor with a submit command that runs each job script on this machine; the default
profile makes a plain local run work without further options."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.workflow.helpers import REPO, SNAKEFILE, copy_example

PROFILES = REPO / "workflow" / "profiles"
SLURM = PROFILES / "slurm"
DEFAULT = PROFILES / "default"
RULE_RE = re.compile(r"^rule\s+([A-Za-z_]\w*)\s*:", re.MULTILINE)
LOCALRULES_RE = re.compile(r"^localrules:\s*\n((?:[ \t]+\w+,?[ \t]*\n)+)", re.MULTILINE)

# The aggregation rules that cost less than a cluster submission; the mini workflow below declares them
# `localrules`, as the real rule files should (see docs/operations.md).
LOCAL_RULES = {"prisma", "rob"}


def workflow_rules() -> set[str]:
    files = [SNAKEFILE, *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    return set(RULE_RE.findall(text)) - {"all"}


def declared_local_rules() -> set[str]:
    found = set()
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in LOCALRULES_RE.findall(path.read_text(encoding="utf-8")):
            found.update(name.strip(" \t,") for name in block.split() if name.strip(" \t,"))
    return found


def slurm_profile() -> dict:
    return yaml.safe_load((SLURM / "config.yaml").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- static


def test_slurm_profile_sizes_every_rule_of_the_workflow():
    profile = slurm_profile()
    rules = workflow_rules()
    assert {"parse_export", "deduplicate", "screening", "prisma", "studies", "rob", "analysis", "synthesis",
            "report"} <= rules  # the rule files were read
    assert profile["executor"] == "slurm"
    assert set(profile["set-resources"]) == rules, "set-resources must name exactly the workflow's rules"
    for rule, res in profile["set-resources"].items():
        assert isinstance(res["mem_mb"], int) and res["mem_mb"] > 0, rule
        assert isinstance(res["runtime"], int) and res["runtime"] > 0, rule
    assert {"mem_mb", "runtime"} <= set(profile["default-resources"])


def test_slurm_profile_bundles_fit_their_limits():
    profile = slurm_profile()
    rules = workflow_rules()
    groups = profile["groups"]
    assert set(groups) <= rules
    assert set(profile["group-components"]) == set(groups.values())
    assert not set(groups) & LOCAL_RULES
    limits = profile["resources"]
    assert profile["set-resource-scopes"] == {"mem_mb": "local", "cpus_per_task": "local"}
    # a bundle must hold at least one job of each of its rules
    for rule in groups:
        assert profile["set-resources"][rule]["mem_mb"] <= limits["mem_mb"], rule
    # and no single job may need more than a bundle is allowed (the limits are per cluster job)
    assert max(r["mem_mb"] for r in profile["set-resources"].values()) <= limits["mem_mb"]


def test_default_profile_is_for_local_runs():
    profile = yaml.safe_load((DEFAULT / "config.yaml").read_text(encoding="utf-8"))
    assert "executor" not in profile
    assert profile["cores"] == "all"
    assert profile["rerun-incomplete"] is True
    assert profile["printshellcmds"] is False


# ---------------------------------------------------------------------------------------------- runs

MINI_SNAKEFILE = '''
EXPORTS = ["2026-01-01", "2026-02-01"]
STUDIES = ["s1", "s2", "s3"]
ANALYSES = ["a1", "a2"]
KINDS = ["pooled", "subgroups", "leave_one_out"]

localrules: {local}


rule report:
    default_target: True
    input:
        "results/prisma.json",
        "results/studies/studies.json",
        "results/rob/summary.json",
        expand("results/analyses/{{a}}/{{k}}.json", a=ANALYSES, k=KINDS),
    output: results="results/results.json", html="results/report.html", pdf="results/report.pdf",
        published="results/published.json"
    shell: "for f in {{output}}; do cat {{input}} > $f; done"

rule parse_export:
    input: "review/searches/pubmed/{{name}}.nbib"
    output: "results/parsed/{{name}}.json"
    shell: "cat {{input}} > {{output}}"

rule deduplicate:
    input: expand("results/parsed/{{name}}.json", name=EXPORTS)
    output: "results/dedup.json"
    shell: "cat {{input}} > {{output}}"

rule screening:
    input: "results/dedup.json"
    output: "results/screening.json"
    shell: "cat {{input}} > {{output}}"

rule prisma:
    input: "results/screening.json"
    output: "results/prisma.json"
    shell: "cat {{input}} > {{output}}"

rule studies:
    input: expand("review/studies/{{study}}.yaml", study=STUDIES)
    output: "results/studies/studies.json"
    shell: "cat {{input}} > {{output}}"

rule rob:
    input: expand("review/risk_of_bias/{{study}}.yaml", study=STUDIES)
    output: "results/rob/summary.json"
    shell: "cat {{input}} > {{output}}"

rule analysis:
    input: expand("review/studies/{{study}}.yaml", study=STUDIES)
    output: expand("results/analyses/{{{{analysis}}}}/{{kind}}.json", kind=KINDS)
    shell: "for f in {{output}}; do cat {{input}} > $f; done"
'''

# A "cluster" whose submit command records what it was asked for and runs the job script in the
# background on this machine; Snakemake learns that a job ended from the job script's marker files.
SUBMIT_SH = """#!/bin/bash
# submit.sh NAME RULE MEM_MB RUNTIME CPUS JOBSCRIPT
printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$2" "$3" "$4" "$5" >> "$SUBMIT_LOG"
mkdir -p "$JOB_LOGS"
nohup bash "$6" > "$JOB_LOGS/$(basename "$6").log" 2>&1 < /dev/null &
echo "local-$!"
"""
SUBMIT_ARGS = "{name} {rule} {resources.mem_mb} {resources.runtime} {resources.cpus_per_task}"


def mini_workflow(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Snakefile").write_text(MINI_SNAKEFILE.format(local=", ".join(sorted(LOCAL_RULES))), encoding="utf-8")
    for folder, names in (("review/searches/pubmed", ["2026-01-01", "2026-02-01"]),
                          ("review/studies", ["s1", "s2", "s3"]), ("review/risk_of_bias", ["s1", "s2", "s3"])):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            ext = "nbib" if "searches" in folder else "yaml"
            (root / folder / f"{name}.{ext}").write_text(f"{folder} {name}\n", encoding="utf-8")
    return root


def local_cluster(tmp_path: Path) -> tuple[list[str], dict]:
    submit = tmp_path / "submit.sh"
    submit.write_text(SUBMIT_SH, encoding="utf-8")
    submit.chmod(0o755)
    env = {**os.environ, "SUBMIT_LOG": str(tmp_path / "submitted.tsv"), "JOB_LOGS": str(tmp_path / "joblogs")}
    args = ["--profile", str(SLURM), "--executor", "cluster-generic",
            "--cluster-generic-submit-cmd", f"{submit} {SUBMIT_ARGS}",
            "--jobs", "2", "--latency-wait", "10", "--seconds-between-status-checks", "1"]
    return args, env


def submissions(tmp_path: Path) -> list[dict]:
    path = tmp_path / "submitted.tsv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        return [dict(zip(("name", "rule", "mem_mb", "runtime", "cpus"), row)) for row in rows]


def run_snakemake(args: list[str], cwd: Path, env: dict | None = None, timeout: int = 600):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=timeout)


def check_submissions(subs: list[dict], profile: dict, local_rules: set[str]) -> dict[str, list[dict]]:
    """Every submission carries the profile's resources; bundles stay within the profile's limits."""
    sized = profile["set-resources"]
    limits = profile["resources"]
    by_rule: dict[str, list[dict]] = {}
    for sub in subs:
        assert sub["rule"] not in local_rules, f"local rule {sub['rule']} was submitted"
        if sub["rule"] == "GROUP":
            assert sub["name"].split("_", 1)[0] in set(profile["groups"].values()), sub
            assert 0 < int(sub["mem_mb"]) <= limits["mem_mb"], sub
            assert 0 < int(sub["cpus"]) <= limits["cpus_per_task"], sub
        else:
            assert int(sub["mem_mb"]) == sized[sub["rule"]]["mem_mb"], sub
            assert int(sub["runtime"]) == sized[sub["rule"]]["runtime"], sub
        by_rule.setdefault(sub["rule"], []).append(sub)
    return by_rule


@pytest.mark.workflow
def test_slurm_profile_runs_through_the_generic_cluster_executor(tmp_path):
    work = mini_workflow(tmp_path / "work")
    args, env = local_cluster(tmp_path)
    proc = run_snakemake(["--snakefile", str(work / "Snakefile"), "--directory", str(work), *args], work, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Using profile {SLURM}" in proc.stderr
    assert (work / "results" / "published.json").exists()

    profile = slurm_profile()
    by_rule = check_submissions(submissions(tmp_path), profile, LOCAL_RULES)
    # the rules left alone are submitted once each (all studies are one job)
    assert sorted(r for r in by_rule if r != "GROUP") == ["deduplicate", "report", "screening", "studies"]
    # the small per-export and per-analysis jobs go out as one bundle per kind
    bundles = sorted(sub["name"] for sub in by_rule["GROUP"])
    assert bundles == ["analyses_analysis", "exports_parse_export"]
    analyses = next(s for s in by_rule["GROUP"] if s["name"].startswith("analyses"))
    # two 1000 MB / 1-CPU jobs under a 4-CPU limit: one round, side by side
    assert (analyses["mem_mb"], analyses["cpus"], analyses["runtime"]) == ("2000", "2", "15")
    # and local rules really ran, in the submitting process
    for rule in LOCAL_RULES:
        assert f"localrule {rule}:" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_default_profile_makes_a_plain_local_run_work(tmp_path):
    work = mini_workflow(tmp_path / "work")
    without = run_snakemake(["--snakefile", str(work / "Snakefile"), "--directory", str(work)], work)
    assert without.returncode != 0 and "cores" in (without.stdout + without.stderr).lower()
    assert not (work / "results").exists()
    proc = run_snakemake(["--snakefile", str(work / "Snakefile"), "--directory", str(work),
                          "--workflow-profile", str(DEFAULT)], work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"workflow specific profile {DEFAULT}" in proc.stderr
    assert (work / "results" / "published.json").exists()
    assert "cat review/" not in proc.stdout + proc.stderr  # printshellcmds: false


def _plan_problem(work: Path) -> str | None:
    """None when the example workflow plans cleanly in ``work``, else why not (the team may still be
    building it: then the test is skipped with that reason)."""
    proc = run_snakemake(["--snakefile", str(SNAKEFILE), "--directory", str(work), "--cores", "1", "-n", "--quiet"],
                         work, timeout=300)
    if proc.returncode != 0:
        lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
        return "the example workflow does not plan yet: " + (lines[-1] if lines else f"exit {proc.returncode}")
    return None


@pytest.mark.workflow
def test_example_review_through_the_slurm_profile(tmp_path):
    if not (REPO / "review" / "review.yaml").exists():
        pytest.skip("the example review is not in the repository yet")
    work = copy_example(tmp_path / "work")
    reason = _plan_problem(work)
    if reason:
        pytest.skip(reason)
    args, env = local_cluster(tmp_path)
    proc = run_snakemake(["--snakefile", str(SNAKEFILE), "--directory", str(work), *args], work, env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    local = declared_local_rules()
    by_rule = check_submissions(submissions(tmp_path), slurm_profile(), local)
    assert by_rule, "no job was submitted"
    assert "deduplicate" in by_rule
    bundles = {sub["name"].split("_", 1)[0] for sub in by_rule.get("GROUP", [])}
    assert "analyses" in bundles and "studies" in by_rule, by_rule
    assert (work / "results" / "report" / "published.json").exists()
    assert (work / "reports" / "latest" / "report.html").exists()
