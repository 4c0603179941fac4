"""Writing risk-of-bias files and tool definitions for the tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from livingmeta.errors import ReviewInputError, ReviewInputErrors
from livingmeta.rob import load_rob, load_tool


def rob_file(tmp_path: Path, sid: str, judgements: dict[str, str], *, tool: str | None = None,
             key: str = "domains", overall: str | None = None) -> Path:
    lines = [f"study: {sid}"] + ([f"tool: {tool}"] if tool else []) + [f"{key}:"]
    lines += [f"  {d}: {{judgement: {j}, support: \"Reason for {d}.\"}}" for d, j in judgements.items()]
    if overall:
        lines.append(f"overall: {overall}")
    path = tmp_path / "risk_of_bias" / f"{sid}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def all_domains(tool_id: str, judgement: str, **others: str) -> dict[str, str]:
    tool = load_tool(tool_id)
    return {d: others.get(d, judgement) for d in tool.domain_ids}


def problems_of(err: ReviewInputError) -> list[ReviewInputError]:
    return err.errors if isinstance(err, ReviewInputErrors) else [err]


def fails(path: Path, tool) -> list[ReviewInputError]:
    with pytest.raises(ReviewInputError) as info:
        load_rob(path, tool)
    return problems_of(info.value)


def one(problems: list[ReviewInputError], field: str) -> ReviewInputError:
    found = [p for p in problems if p.field == field]
    assert found, "\n".join(p.format() for p in problems)
    return found[0]
