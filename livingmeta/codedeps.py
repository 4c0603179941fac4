"""Which livingmeta code a workflow script runs, as one digest: the jobs re-run when it changes.

Snakemake re-runs a job when its inputs, its parameters or its rule's own script change, not when the
library the script imports changes: after a livingmeta upgrade that corrects a statistic, the analyses
would keep the numbers of the old code (and a new report would claim the new version). So each data rule
passes :func:`script_code_digest` of its script as a parameter: the SHA-256 of the livingmeta modules the
script imports, directly or through other livingmeta modules (``import`` statements anywhere in a file,
function-level ones included, absolute and relative), names and bytes. An upgrade re-runs exactly the
jobs whose code changed; the rest stay as they were.

The import graph is read with a regular expression over the source text (no module is imported: this runs
while Snakemake plans, about 30 ms for all the workflow's scripts); it over-approximates, never under: a name
imported from a package counts as its submodule when a file of that name exists. Imports by name at run
time (``importlib.import_module``) are not followed; the workflow's code has none (only the command line's
dispatcher does).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#]+)", re.M)


def _module_file(parts: list[str]) -> Path | None:
    """The source file of module ``livingmeta.<parts>`` (a module file or a package's __init__.py)."""
    base = PACKAGE.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_parts(path: Path) -> list[str]:
    """``livingmeta.<parts>`` of the package a source file belongs to."""
    rel = path.relative_to(PACKAGE)
    return list(rel.parts[:-1])


@lru_cache(maxsize=None)
def imported_files(path: Path) -> frozenset[Path]:
    """The livingmeta source files that ``path`` imports (one step)."""
    text = path.read_text(encoding="utf-8")
    inside = path.is_relative_to(PACKAGE)
    found: set[Path] = set()

    def add(parts: list[str], names: list[str]) -> None:
        module = _module_file(parts)
        if module is not None:
            found.add(module)
        for name in names:
            sub = _module_file(parts + [name])
            if sub is not None:
                found.add(sub)

    for dots, module, names_text in _FROM.findall(text):
        names = [item.split()[0] for item in names_text.strip().strip("()").replace("\n", " ").split(",")
                 if item.split()]
        if dots:
            if not inside:
                continue
            package, up = _package_parts(path), len(dots) - 1
            add(package[:len(package) - up] + [p for p in module.split(".") if p], names)
        elif module == "livingmeta" or module.startswith("livingmeta."):
            add(module.split(".")[1:], names)
    for names_text in _IMPORT.findall(text):
        for name in names_text.split(","):
            module = name.split()[0] if name.split() else ""
            if module == "livingmeta" or module.startswith("livingmeta."):
                add(module.split(".")[1:], [])
    found.discard(path)
    return frozenset(found)


def code_files(script: str | Path) -> list[Path]:
    """Every livingmeta source file that ``script`` runs, through its imports (transitively), sorted."""
    todo, seen = [Path(script).resolve()], set()
    while todo:
        path = todo.pop()
        for found in imported_files(path):
            if found not in seen:
                seen.add(found)
                todo.append(found)
    return sorted(seen)


def files_digest(paths: list[Path], root: Path | None = None) -> str:
    """SHA-256 over source files: each one's name relative to ``root`` (livingmeta's folder), then its bytes."""
    root = root or PACKAGE
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=None)
def script_code_digest(script: str) -> str:
    """The first 16 hex digits of :func:`files_digest` of :func:`code_files` of ``script``."""
    return files_digest(code_files(script))[:16]
