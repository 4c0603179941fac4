"""Checks of the review folder made while the job graph is planned, before any job starts.

Each check is cheap (file names, plain YAML and CSV reads, no parsing of exports, no statistics), so a bad
input stops the run in a second with every problem listed, instead of after minutes of work, and a bad
input is checked again at every run until it is fixed. The jobs validate their inputs again (they are the
contract), so a check here is an early copy of a job's check, never a different rule.
"""

from __future__ import annotations

import os

from livingmeta.errors import ReviewInputError, ReviewInputErrors


def _flat(err: ReviewInputError) -> list[ReviewInputError]:
    return list(err.errors) if isinstance(err, ReviewInputErrors) else [err]


def _raised(load, *args) -> list[ReviewInputError]:
    """The problems a loader raises (its result is not needed here)."""
    try:
        load(*args)
    except ReviewInputError as err:
        return _flat(err)
    return []


def _context(*parts) -> str:
    """What a verdict "valid" depends on besides the file itself (``livingmeta.plancache``)."""
    from livingmeta.contentcache import code_digest, digest

    return digest(code_digest(), *parts)


def _file_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def study_file_problems(review_dir: str, plan, default_measure: str | None = None,
                        cache=None) -> list[ReviewInputError]:
    """Every study file against outcomes.yaml. ``cache`` (``livingmeta.plancache.PlanCache``): files found
    valid before, unchanged since and checked against the same outcomes.yaml, measure and code are skipped."""
    from livingmeta.extraction.studyfile import problems_in_folder

    if not plan.studies:
        return []
    folder, outcomes = os.path.join(review_dir, "studies"), os.path.join(review_dir, "outcomes.yaml")
    context = _context("studies", _file_bytes(outcomes), default_measure or "") if cache is not None else ""
    skip = (lambda path: cache.is_valid(os.path.normpath(path), context)) if cache is not None else None
    problems = problems_in_folder(folder, outcomes, default_measure, skip=skip)
    if cache is not None:
        paths = {os.path.normpath(p) for p in plan.studies.values()}
        with_problems = {os.path.normpath(e.file) for e in problems if e.file}
        if with_problems <= paths:   # (a problem of outcomes.yaml: no study file was checked)
            for path in paths - with_problems:
                cache.mark_valid(path, context)
    return problems


def risk_of_bias_problems(plan, tool: str | None = None, cache=None) -> list[ReviewInputError]:
    """Every risk-of-bias file against the review's tool (``tool``: a built-in id or the path of the
    review's own definition file, as the rules give it to the rob job); ``cache`` as
    :func:`study_file_problems`."""
    from livingmeta.rob import load_rob
    from livingmeta.rob.tool import load_tool

    if not plan.rob_files:
        return []
    try:
        definition = load_tool(tool)
    except ReviewInputError as err:
        return _flat(err)
    context = _context("rob", str(tool or ""), _file_bytes(str(tool)) if str(tool).lower().endswith(
        (".yaml", ".yml")) else b"") if cache is not None else ""
    problems: list[ReviewInputError] = []
    for path in plan.rob_files.values():
        key = os.path.normpath(path)
        if cache is not None and cache.is_valid(key, context):
            continue
        found = _raised(load_rob, path, definition)
        problems += found
        if cache is not None and not found:
            cache.mark_valid(key, context)
    return problems


def review_protocol_problems(review_dir: str) -> list[ReviewInputError]:
    """The wording fields of review.yaml (type, unit_of_analysis, arms)."""
    from livingmeta.extraction.review import check_report_fields

    return _raised(check_report_fields, os.path.join(review_dir, "review.yaml"))


def certainty_problems(review_dir: str, plan) -> list[ReviewInputError]:
    """The reviewers' GRADE decisions (certainty.yaml) against the review's analyses."""
    from livingmeta.certainty.decisions import load_decisions

    from livingmeta.plan import analysis_id, outcome_definitions
    from livingmeta.yamlsafe import safe_load

    analyses = {aid: a.outcome for aid, a in plan.analyses.items()}
    try:   # every declared analysis, with data or not yet (outcomes.yaml is validated with the study files)
        with open(os.path.join(review_dir, "outcomes.yaml"), encoding="utf-8") as handle:
            declared = outcome_definitions(safe_load(handle))
    except (OSError, ValueError, TypeError):
        declared = {}
    for oid, definition in declared.items():
        for tp in definition.get("timepoints") or [] if isinstance(definition.get("timepoints"), list) else []:
            analyses.setdefault(analysis_id(oid, str(tp)), oid)
    return _raised(load_decisions, os.path.join(review_dir, "certainty.yaml"), analyses)


def _display_root(review_dir: str) -> str:
    """Files are named relative to the folder holding the review folder (``review/screening/...``)."""
    return os.path.dirname(os.path.abspath(review_dir))


def previous_version_problems(review_dir: str) -> list[ReviewInputError]:
    """previous_version.yaml: valid, and its PRISMA boxes add up (the consistency check of the flow)."""
    from livingmeta.records.prisma import problems_in_previous_version

    path = os.path.join(review_dir, "previous_version.yaml")
    return problems_in_previous_version(path, os.path.relpath(path, _display_root(review_dir)))


def screening_problems(review_dir: str) -> list[ReviewInputError]:
    """The decision files: syntax, header, rows, record id forms, contradictions (docs/screening.md)."""
    from livingmeta.records.screening import problems_in_decision_files

    return problems_in_decision_files(os.path.join(review_dir, "screening"), display_root=_display_root(review_dir))


def search_folder_problems(review_dir: str) -> list[ReviewInputError]:
    """Files in review/searches/ that are not exports livingmeta reads (named, never ignored), and exports
    whose names clash (docs/records.md)."""
    from livingmeta.records.ingest import search_folder_problems as problems_in_searches

    return problems_in_searches(os.path.join(review_dir, "searches"))


def synthesis_problems(review_dir: str, plan) -> list[ReviewInputError]:
    """review.yaml's ``synthesis`` block (docs/synthesis.md), needed when a study reports directions of effect."""
    from livingmeta.synthesis.settings import load_settings

    path = os.path.join(review_dir, "review.yaml")
    try:
        settings = load_settings(path)
    except ReviewInputError as err:
        return _flat(err)
    if settings is None and getattr(plan, "synthesis_studies", None):
        return [ReviewInputError(
            f"{len(plan.synthesis_studies)} study file(s) report directions of effect (e.g. "
            f"{plan.synthesis_studies[0]}) but review.yaml has no `synthesis:` block", file=path, field="synthesis",
            hint="Add `synthesis: {group_by: <a key of the study files' groups>}` (see docs/synthesis.md).")]
    if settings is None:
        return []
    from livingmeta.plan import _safe_yaml
    from pathlib import Path

    group_by, declared = settings["group_by"], [g["id"] for g in settings["groups"]]
    found: list[ReviewInputError] = []
    for sid in getattr(plan, "synthesis_studies", None) or []:   # the synthesis job's check, early
        data = _safe_yaml(Path(plan.studies[sid]))
        value = ((data or {}).get("groups") or {}).get(group_by) if isinstance(data, dict) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            found.append(ReviewInputError(
                f"a study with direction-of-effect entries has no `{group_by}` group", file=plan.studies[sid],
                field=f"groups.{group_by}", hint=f"Add `groups: {{{group_by}: ...}}` (review.yaml's synthesis.group_by)"
                + (f"; one of {', '.join(declared)}." if declared else ".")))
        elif declared and str(value) not in declared:
            found.append(ReviewInputError(
                f"unknown {group_by} group '{value}'", file=plan.studies[sid], field=f"groups.{group_by}",
                hint=f"Use one of review.yaml's synthesis.groups: {', '.join(declared)} (or add the group there)."))
    return found


def problems(review_dir: str, plan, *, default_measure: str | None = None,
             rob_tool: str | None = None, cache=None) -> list[ReviewInputError]:
    """Every problem the planning-time checks find, in the order a reviewer would fix them.
    ``default_measure``: the config's ``analysis.measure``, for outcomes that do not name their own;
    ``rob_tool``: the risk-of-bias tool (a built-in id or a definition file's path); ``cache``: a
    ``livingmeta.plancache.PlanCache`` (study and risk-of-bias files found valid and unchanged since are
    not read again)."""
    review_dir = str(review_dir)
    found: list[ReviewInputError] = []
    found += search_folder_problems(review_dir)
    found += review_protocol_problems(review_dir)
    found += study_file_problems(review_dir, plan, default_measure, cache)
    found += synthesis_problems(review_dir, plan)
    found += risk_of_bias_problems(plan, rob_tool, cache)
    found += certainty_problems(review_dir, plan)
    found += previous_version_problems(review_dir)
    found += screening_problems(review_dir)
    return found


def format_problems(found: list[ReviewInputError], prefix: str) -> str:
    return "\n".join(prefix + line for err in found for line in err.format().splitlines())

