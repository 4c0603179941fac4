"""``livingmeta pool``: the command module (add_arguments/run) and ``python -m livingmeta.commands.pool``."""

import argparse
import json
import subprocess
import sys

import pytest

from livingmeta.commands import pool
from livingmeta.stats import escalc, leave_one_out, rma, subgroup_analysis

ARMS = """study,m1i,sd1i,n1i,m2i,sd2i,n2i,hydrogel
Liao 2021,10,2,8,8,2,8,HA
Xu 2022,12,3,10,9,2.5,9,HA
Chen 2020,9,2.5,6,8.5,2,6,PEG
Li 2023,14,3,9,10,3.5,10,PEG
Wang 2019,11,2,7,8,2.2,7,GelMA
"""


def _run(tmp_path, text, *argv):
    f = tmp_path / "t.csv"
    f.write_text(text, encoding="utf-8")
    parser = argparse.ArgumentParser()
    pool.add_arguments(parser)
    args = parser.parse_args([str(f), *argv])
    return pool.run(args)


def test_per_arm_table_matches_library(tmp_path, capsys):
    assert _run(tmp_path, ARMS, "--subgroup", "hydrogel", "--leave-one-out") == 0
    out = json.loads(capsys.readouterr().out)
    cols = list(zip(*[line.split(",") for line in ARMS.strip().splitlines()[1:]]))
    arms = {n: [float(x) for x in cols[i + 1]] for i, n in enumerate(("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"))}
    yi, vi = escalc("SMD", **arms)
    ref = rma(yi, vi).to_dict()
    for key in ("k", "estimate", "se", "ci_lb", "ci_ub", "pval", "tau2", "tau2_ci_lb", "tau2_ci_ub", "I2", "H2",
                "Q", "Q_df", "Q_pval", "pi_lb", "pi_ub"):
        assert out[key] == ref[key], key
    assert out["measure"] == "SMD" and out["method"] == "REML" and out["test"] == "knha"
    assert [s["study"] for s in out["studies"]] == list(cols[0])
    assert sum(s["weight"] for s in out["studies"]) == pytest.approx(100)
    sg = subgroup_analysis(yi, vi, list(cols[7]))
    assert [r["level"] for r in out["subgroups"]] == ["GelMA", "HA", "PEG"]
    assert out["Q_between"] == sg["Q_between"] and out["Q_between_df"] == 2
    loo = leave_one_out(yi, vi)
    assert [r["omitted"] for r in out["leave_one_out"]] == list(cols[0])
    assert [r["estimate"] for r in out["leave_one_out"]] == [r["estimate"] for r in loo]


def test_yi_vi_table_and_options(tmp_path, capsys):
    text = "study,yi,vi\nA,0.5,0.1\nB,0.9,0.2\nC,0.1,0.15\n"
    assert _run(tmp_path, text, "--method", "DL", "--test", "z", "--level", "90") == 0
    out = json.loads(capsys.readouterr().out)
    ref = rma([0.5, 0.9, 0.1], [0.1, 0.2, 0.15], method="DL", test="z", level=90).to_dict()
    assert out["estimate"] == ref["estimate"] and out["ci_lb"] == ref["ci_lb"] and out["measure"] is None


@pytest.mark.parametrize("text, message", [
    ("study,yi,vi\nA,0.5,0.1\nB,0.9,-0.2\n", "study 'B': vi must be > 0"),
    ("study,yi,vi\nA,0.5,0.1\nB,,0.2\n", "study 'B': yi is missing"),
    ("study,yi,vi\nA,0.5,0.1\nB,x,0.2\n", "study 'B': yi is not a number"),
    ("name,yi,vi\nA,0.5,0.1\n", "no 'study' column"),
    ("study,foo\nA,1\n", "need columns study, yi, vi"),
    ("study,yi,vi\n", "no rows"),
    ("study,m1i,sd1i,n1i,m2i,sd2i,n2i\nA,1,1,5,2,-1,5\n", "study 'A': sd2i must be >= 0"),
    ("study,yi,vi\nA,0.5,0.1\nA,0.9,0.2\n", "appears twice"),
])
def test_bad_tables_give_one_line_and_status_1(tmp_path, capsys, text, message):
    assert _run(tmp_path, text) == 1
    err = capsys.readouterr().err
    assert err.startswith("livingmeta: error: ") and message in err and err.count("\n") == 1


def test_module_runs_standalone_without_traceback(tmp_path):
    missing = tmp_path / "nope.csv"
    p = subprocess.run([sys.executable, "-m", "livingmeta.commands.pool", str(missing)], capture_output=True,
                       text=True)
    assert p.returncode == 1 and "file not found" in p.stderr and "Traceback" not in p.stderr
    good = tmp_path / "ok.csv"
    good.write_text(ARMS, encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "livingmeta.commands.pool", str(good), "--measure", "md",
                        "--subgroup", "hydrogel", "--tau2", "common"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["measure"] == "MD" and out["tau2_model"] == "common" and out["Q_between_df"] == 2


def _yusuf_table():
    """dat.yusuf1985, table 6, as recorded in validation/metafor/reference/binary_yusuf1985.json."""
    from tests.stats.metafor_cases import REF_DIR, load

    case = load(REF_DIR / "binary_yusuf1985.json")
    t = case["tables"]
    lines = ["study,ai,n1i,ci,n2i,half"] + [
        f"{s},{a},{n1},{c},{n2},{'first' if i < 10 else 'second'}"
        for i, (s, a, n1, c, n2) in enumerate(zip(t["study"], t["ai"], t["n1i"], t["ci"], t["n2i"]))]
    return "\n".join(lines) + "\n", case


@pytest.mark.parametrize("argv, block", [
    (["--method", "MH"], ("mh", {"measure": "OR", "correct": True})),
    (["--method", "MH", "--measure", "RR"], ("mh", {"measure": "RR", "correct": True})),
    (["--method", "PETO", "--measure", "PETO"], ("peto", {})),
    (["--measure", "OR"], ("rma_exp", {"measure": "OR", "method": "REML", "test": "knha"})),
])
def test_events_and_totals_pool_as_metafor(tmp_path, capsys, argv, block):
    from tests.stats.metafor_cases import RTOL, deviation

    text, case = _yusuf_table()
    assert _run(tmp_path, text, *argv) == 0
    out = json.loads(capsys.readouterr().out)
    name, match = block
    ref = next(b for b in case[name] if all(b.get(k) == v for k, v in match.items()))
    pairs = {"estimate": "estimate", "se": "se", "ci_lb": "ci_lb", "ci_ub": "ci_ub"}
    if name == "rma_exp":
        pairs.update({"estimate_exp": "pred", "ci_lb_exp": "pred_ci_lb", "ci_ub_exp": "pred_ci_ub",
                      "pi_lb_exp": "pred_pi_lb", "tau2": "tau2"})
    else:
        pairs.update({"estimate_exp": "estimate_exp", "ci_lb_exp": "ci_lb_exp", "Q": "QE", "I2": "I2"})
    for ours, theirs in pairs.items():
        assert deviation(out[ours], ref[theirs]) <= RTOL, (ours, out[ours], ref[theirs])
    assert out["scale"] == "log"
    pitt = next(s for s in out["studies"] if s["study"].endswith("Pitt"))
    assert pitt["estimable"] is False and pitt["yi"] is None


def test_events_subgroups_and_leave_one_out_with_mh(tmp_path, capsys):
    text, case = _yusuf_table()
    assert _run(tmp_path, text, "--method", "MH", "--subgroup", "half", "--leave-one-out") == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["level"] for s in out["subgroups"]] == ["first", "second"]
    assert out["Q_between_df"] == 1 and out["Q_between"] >= 0
    assert len(out["leave_one_out"]) == len(case["tables"]["ai"])
    assert all(r["estimate_exp"] > 0 for r in out["leave_one_out"])


@pytest.mark.parametrize("text, argv, message", [
    ("study,ai,n1i,ci,n2i\na,12,10,3,20\nb,1,10,2,10\n", [], "more than the 10 in the arm"),
    ("study,ai,n1i,ci,n2i\na,2,10,3,20\nb,1,10,2,10\n", ["--measure", "SMD"], "not a measure for events"),
    ("study,yi,vi\na,0.1,0.2\nb,0.3,0.1\n", ["--method", "MH"], "needs columns ai, n1i, ci, n2i"),
    ("study,ai,n1i,ci,n2i\na,2,10,3,20\nb,1,10,2,10\n", ["--method", "PETO"], "cannot pool the odds ratio"),
])
def test_bad_event_tables_give_one_line(tmp_path, capsys, text, argv, message):
    assert _run(tmp_path, text, *argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_nmd_and_named_yi_vi_measures(tmp_path, capsys):
    import math

    text = "study,m1i,sd1i,n1i,m2i,sd2i,n2i,msi\na,70,20,10,100,25,12,0\nb,75,6,8,60,5,8,90\nc,50,10,9,80,12,9,10\n"
    assert _run(tmp_path, text, "--measure", "NMD", "--method", "DL", "--test", "z") == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["yi"] for s in out["studies"]] == pytest.approx([-30.0, 50.0, -30 / 70 * 100])
    assert out["measure"] == "NMD" and out["scale"] == "raw" and "estimate_exp" not in out
    assert _run(tmp_path, "study,m1i,sd1i,n1i,m2i,sd2i,n2i\na,1,1,5,2,1,5\nb,1,1,5,2,1,5\n", "--measure", "NMD") == 1
    assert "msi" in capsys.readouterr().err
    text = "study,yi,vi\na,-0.5,0.04\nb,-0.2,0.09\nc,-0.7,0.05\n"
    assert _run(tmp_path, text, "--measure", "OR", "--leave-one-out") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scale"] == "log" and out["estimate_exp"] == pytest.approx(math.exp(out["estimate"]))
    assert out["leave_one_out"][0]["estimate_exp"] == pytest.approx(math.exp(out["leave_one_out"][0]["estimate"]))
