"""Run the workflow through Snakemake's command line in a temporary copy of a review."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"


def copy_example(dest: Path) -> Path:
    """A fresh working folder holding the example review and its config (nothing run yet)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "review", dest / "review")
    shutil.copy2(REPO / "config.yaml", dest / "config.yaml")
    return dest


def copy_run(src: Path, dest: Path) -> Path:
    """A copy of a folder where the workflow already ran (results, reports and Snakemake's metadata,
    with modification times kept), so that what a change re-plans can be measured."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


def snakemake(workdir: Path, *args: str, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir),
           "--cores", "2", *args]
    environ = {**os.environ, **(env or {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environ, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


_JOB_ROW = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(\d+)\s*$")


def planned_jobs(workdir: Path) -> Counter:
    """Rule -> number of jobs that `snakemake -n --quiet rules` plans (an empty Counter: nothing to do)."""
    proc = snakemake(workdir, "-n", "--quiet", "rules", check=True)
    text = proc.stdout + proc.stderr
    counts: Counter = Counter()
    in_table = False
    for line in text.splitlines():
        if line.strip().startswith("job") and "count" in line:
            in_table = True
            continue
        if in_table:
            match = _JOB_ROW.match(line)
            if match and match.group(1) != "total":
                counts[match.group(1)] += int(match.group(2))
            elif line.strip().startswith("total"):
                break
    counts.pop("all", None)
    return counts


def wait_for(condition, timeout: float = 120.0, poll: float = 0.02) -> bool:
    """Poll ``condition()`` until it is true (True) or ``timeout`` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


def tree_digest(folder: Path) -> str:
    """A digest of every file's path and bytes below folder (to prove raw inputs are untouched)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def add_study_copy(review: Path, template: str, new_id: str, keep_outcome: int = 0) -> str:
    """Add a new study to a review by copying ``template``'s study and risk-of-bias files under a new id,
    keeping only its ``keep_outcome``-th outcome entry. Returns that entry's analysis id."""
    import yaml

    from livingmeta.plan import analysis_id

    study = yaml.safe_load((review / "studies" / f"{template}.yaml").read_text(encoding="utf-8"))
    study["study"] = new_id
    study.setdefault("citation", {}).update({"first_author": "Newcomer", "year": 2026, "label": f"Newcomer {new_id}"})
    entry = study["outcomes"][keep_outcome]
    study["outcomes"] = [entry]
    (review / "studies" / f"{new_id}.yaml").write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True),
                                                       encoding="utf-8")
    rob_file = review / "risk_of_bias" / f"{template}.yaml"
    if rob_file.exists():
        rob = yaml.safe_load(rob_file.read_text(encoding="utf-8"))
        rob["study"] = new_id
        (review / "risk_of_bias" / f"{new_id}.yaml").write_text(yaml.safe_dump(rob, sort_keys=False, allow_unicode=True),
                                                               encoding="utf-8")
    return analysis_id(entry["outcome"], entry["timepoint"])
