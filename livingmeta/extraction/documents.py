"""The per-study documents that coarse jobs derive from review files, each computed once per content.

A study's effect sizes (``livingmeta.extraction.effects.study_document``) and a study's risk-of-bias
judgements (``livingmeta.rob.rob_document``) used to be one job per study and file; at a thousand studies
the process start-up of two thousand jobs was most of a run. Now the jobs that need them (``studies``,
``rob``, each ``analysis`` job, ``synthesis``) read the review files directly and take each document from
the content cache (``livingmeta.contentcache``), keyed by the file's bytes and path, the files it is read
against (outcomes.yaml, a review's own tool definition), the parameters that change it and livingmeta's
code. A job therefore re-derives only the files that changed; its output is the same as without the cache.

The files were validated while the run was planned (``livingmeta.preflight``), so a problem found here is
one that appeared since (a file edited during the run): it is raised as the usual ``ReviewInputError``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from livingmeta.contentcache import ContentCache, code_digest, digest, params_text


def _read(path: str | os.PathLike) -> bytes:
    from livingmeta.errors import ReviewInputError

    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ReviewInputError(f"cannot be read ({err.strerror})", file=str(path),
                               hint="Check that the file exists and is readable.") from None


def study_documents(paths: Iterable[str], outcomes_path: str, *, measure: str, smd_variance: str = "LS",
                    zero_cells: dict | None = None, cache_dir: str | None = None,
                    counts: dict | None = None) -> list[dict[str, Any]]:
    """The effect-size document of each study file in ``paths`` (in that order), as
    ``results/studies/studies.json`` holds them (docs/architecture.md). ``counts``, when given, receives
    ``{derived, cached}``: how many documents were computed and how many came from the cache."""
    from livingmeta.extraction.effects import study_document
    from livingmeta.extraction.outcomes import load_outcomes
    from livingmeta.extraction.studyfile import load_study

    zero_cells = dict(zero_cells or {})
    cache = ContentCache(cache_dir, "studies")
    context = digest(code_digest(), _read(outcomes_path),
                     params_text({"measure": measure, "smd_variance": smd_variance, "zero_cells": zero_cells}))
    outcomes = None
    docs = []
    for path in paths:
        path = str(path)

        def make(path=path):
            nonlocal outcomes
            if outcomes is None:
                outcomes = load_outcomes(outcomes_path)
            # study ids were checked unique across the folder while planning
            study = load_study(path, outcomes, measure, check_twins=False)
            return study_document(study, outcomes, measure, smd_variance, zero_cells)

        docs.append(cache.get_or_make(digest(context, path, _read(path)), make))
    _count(counts, cache)
    return docs


def _count(counts: dict | None, cache: ContentCache) -> None:
    if counts is not None:
        counts["derived"] = counts.get("derived", 0) + cache.misses
        counts["cached"] = counts.get("cached", 0) + cache.hits


def rob_documents(paths: Iterable[str], tool_spec: str | None, *, cache_dir: str | None = None,
                  counts: dict | None = None) -> list[dict[str, Any]]:
    """The risk-of-bias document of each file in ``paths`` (in that order) under the review's tool
    (``tool_spec``: a built-in id, or the path of a review's own definition file); ``counts`` as
    :func:`study_documents`."""
    from livingmeta.rob import load_rob, load_tool, rob_document

    cache = ContentCache(cache_dir, "rob")
    spec = str(tool_spec or "")
    tool_bytes = _read(spec) if spec.lower().endswith((".yaml", ".yml")) else b""
    context = digest(code_digest(), spec, tool_bytes)
    tool = None
    docs = []
    for path in paths:
        path = str(path)

        def make(path=path):
            nonlocal tool
            if tool is None:
                tool = load_tool(tool_spec)
            return rob_document(load_rob(path, tool))

        docs.append(cache.get_or_make(digest(context, path, _read(path)), make))
    _count(counts, cache)
    return docs
