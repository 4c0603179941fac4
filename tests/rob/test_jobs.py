"""The rob job through Snakemake with the tool named in config.yaml."""
from __future__ import annotations

import pytest
import yaml

from livingmeta.jsonio import read_json
from livingmeta.rob import load_tool

from ..workflow.helpers import copy_example, snakemake
from .test_tools import definition

pytestmark = pytest.mark.workflow


def rewrite_rob_files(work, tool_id: str | None, judgement_of) -> list[str]:
    """Replace the example's SYRCLE files by files for another tool; judgement_of(n, domain) per study n."""
    folder = work / "review" / "risk_of_bias"
    sids = sorted(p.stem for p in folder.glob("*.yaml") if not p.name.startswith("_"))
    tool = load_tool(tool_id) if tool_id else None
    domains = tool.domain_ids if tool else tuple(f"d{i}" for i in range(1, 5))
    for n, sid in enumerate(sids):
        data = {"study": sid, "domains": {d: {"judgement": judgement_of(n, d), "support": "Illustrative."}
                                          for d in domains}}
        (folder / f"{sid}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return sids


def set_tool(work, tool: str) -> None:
    config = yaml.safe_load((work / "config.yaml").read_text(encoding="utf-8"))
    config["risk_of_bias"] = {"tool": tool}
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def test_rob2_review_through_the_workflow(tmp_path):
    work = copy_example(tmp_path / "w")
    sids = rewrite_rob_files(work, "rob2", lambda n, d: "high" if (n == 0 and d == "deviations") else
                             "some_concerns" if n % 2 else "low")
    set_tool(work, "rob2")
    proc = snakemake(work, "results/rob/summary.json")
    assert proc.returncode == 0, proc.stderr
    summary = read_json(work / "results" / "rob" / "summary.json")
    assert summary["tool"] == "RoB 2" and [j["id"] for j in summary["judgements"]] == ["low", "some_concerns", "high"]
    overall = {s: o["judgement"] for s, o in summary["overall"].items()}
    assert overall[sids[0]] == "high" and overall[sids[1]] == "some_concerns" and overall[sids[2]] == "low"
    assert sum(summary["overall_summary"].values()) == 10


def test_own_tool_from_the_review_folder_and_a_bad_judgement(tmp_path):
    work = copy_example(tmp_path / "w")
    (work / "review" / "our_tool.yaml").write_text(yaml.safe_dump(definition()), encoding="utf-8")
    sids = rewrite_rob_files(work, None, lambda n, d: "low")
    set_tool(work, "review/our_tool.yaml")
    bad = work / "review" / "risk_of_bias" / f"{sids[3]}.yaml"
    bad.write_text(bad.read_text().replace("judgement: low", "judgement: unclear", 1), encoding="utf-8")
    proc = snakemake(work, "results/rob/summary.json")
    assert proc.returncode != 0
    assert (f"review/risk_of_bias/{sids[3]}.yaml: domains.d1.judgement: unknown judgement 'unclear' for domain 1 "
            "(Domain 1) (Our tool). Use one of: low, some_concerns, high.") in proc.stderr
    bad.write_text(bad.read_text().replace("judgement: unclear", "judgement: low"), encoding="utf-8")
    proc = snakemake(work, "results/rob/summary.json")
    assert proc.returncode == 0, proc.stderr
    summary = read_json(work / "results" / "rob" / "summary.json")
    assert summary["tool"] == "Our tool" and set(o["judgement"] for o in summary["overall"].values()) == {"low"}
