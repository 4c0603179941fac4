"""Run Snakemake through its command line (the stable interface), keep its output, find input problems."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from livingmeta.scripting import ERROR_PREFIX

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"
NOTHING_TO_DO = "Nothing to be done"
# Snakemake shows where in the Snakefile a planning error was raised; that is noise for a reviewer
_FRAME_LINE = re.compile(r'^\s+File ".*", line \d+, in ')


def snakemake_command(*, configfile: str | None = None, cores: str = "all", snakefile: str | None = None,
                      extra: list[str] | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile or SNAKEFILE), "--cores", str(cores),
           "--rerun-incomplete"]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    return cmd + list(extra or [])


def run_snakemake(cmd: list[str], *, log_path: str | os.PathLike | None = None, echo: bool = True) -> tuple[int, str]:
    """Run ``cmd``, echoing its output (without the raw error lines, which the caller summarises) and
    copying all of it to ``log_path``. Returns (exit status, full output)."""
    log = None
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "a", encoding="utf-8")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert proc.stdout is not None
        captured = []
        for line in proc.stdout:
            captured.append(line)
            if log:
                log.write(line)
            if echo and ERROR_PREFIX not in line and not _FRAME_LINE.match(line):
                sys.stdout.write(line)
                sys.stdout.flush()
        return proc.wait(), "".join(captured)
    finally:
        if log:
            log.close()


def problems_in(text: str) -> list[str]:
    """The distinct review-input problems (``livingmeta: error: ...`` lines) in Snakemake's output."""
    seen, out = set(), []
    for line in text.splitlines():
        idx = line.find(ERROR_PREFIX)
        if idx >= 0:
            msg = line[idx + len(ERROR_PREFIX):].strip()
            if msg and msg not in seen:
                seen.add(msg)
                out.append(msg)
    return out


def nothing_to_do(text: str) -> bool:
    return NOTHING_TO_DO in text
