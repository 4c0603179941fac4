"""The report job at scale: its steps, timed in process, for a synthetic review of N studies x A analyses.

    .venv/bin/python benchmarks/bench_report.py [--studies 100 1000] [--analyses 50] [--threads 2]
                                                [--keep DIR] [--profile STEP]

For each N: benchmarks/make_synthetic_review.py writes the review folder; the report job's inputs are made
in this process by the library functions the rules' scripts call (study_document, rob_document +
summarise, analyses.pool_analysis / subgroups_for_analysis / leave_one_out_for_analysis, compute_prisma),
no Snakemake; then the report job's steps are timed as scripts/report.py runs them (results.json, HTML,
figures, data, export, PDF) from scratch, and again after adding one study that reports 4 analyses (its
inputs re-made as the workflow would: that study, its 4 analyses, the risk-of-bias summary), with the
PDF cache of the first build. Printed: seconds per step, page counts, file sizes. ``--keep DIR`` keeps
(and reuses) the inputs of each N in DIR/N<n> (making them is not what is measured); ``--profile STEP``
(``add``) profiles the add-one-study report with cProfile and prints the top functions.

Target (issue: a 1,000-study living review on two cores): adding one study to a 1,000 x 50 review in
<= 20 s wall for the whole run, of which the report is the main part. A benchmark, not a test.

Both sizes are laid out in pages (config report.layout auto: 50 analyses > 30), so each makes report.pdf
and report-appendix.pdf. Figures (2 cores, otherwise idle, 2026-12-05; CPU: this process and its PDF
workers), ``--studies 100 1000 --keep /tmp/rscale``:

  N = 100:   from scratch 23.0 s wall / 44.6 s CPU, 172 + 120 pages; add one study 3.1 s wall / 5.8 s CPU
             (16 of 178 parts re-rendered: the 4 analyses, summary, front matter, 2 appendix blocks, ...)
  N = 1000:  from scratch 114.6 s wall / 223.1 s CPU; report.pdf 368 pages 3.1 MB, report-appendix.pdf
             1,184 pages 20.8 MB, report.html (summary page) 0.14 MB, pages/ 22.4 MB in 63 pages,
             results.json 11.5 MB; add one study 8.7 s wall / 13.9 s CPU: results.json 1.0, HTML 1.3, PDF
             parts keyed 0.5, pages 0.5, figures 0.7, data + export 0.2, PDF (wait + merge) 4.2

Before (one page, pypdf merge; commit dd15da8; measured while other work loaded the machine): N = 100
from scratch 72.5 s, 283 pages, add one 19.0 s (PDF 17.4 s); N = 1000 from scratch 692.3 s, report.pdf
1,700 pages 30.7 MB, report.html 21.3 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from make_synthetic_review import write_review, write_study  # noqa: E402


# ------------------------------------------------------------------------------------------------------
# the report job's inputs, made as the rules' scripts make them


class Inputs:
    """The intermediate files of a synthetic review under ``root/results``, made in process."""

    def __init__(self, root: Path):
        from livingmeta.config import resolve_paths, validate_config
        from livingmeta.yamlsafe import safe_load

        self.root = root
        raw = safe_load((root / "config.yaml").read_text(encoding="utf-8"))
        self.cfg = resolve_paths(validate_config(raw, source=str(root / "config.yaml")), root, cwd=root)
        self.review = root / "review"
        self.results = root / "results"
        self.A = self.cfg["analysis"]

    def res(self, path: str) -> Path:
        return self.results / path

    def plan(self):
        from livingmeta.plan import scan_review

        return scan_review(self.review)

    def study(self, sid: str, path: str) -> None:
        from livingmeta.extraction.effects import study_document
        from livingmeta.extraction.outcomes import load_outcomes
        from livingmeta.extraction.studyfile import load_study
        from livingmeta.jsonio import write_json
        from livingmeta.rob import load_rob, load_tool, rob_document

        outcomes = load_outcomes(self.review / "outcomes.yaml")
        study = load_study(path, outcomes, self.A["measure"])
        write_json(self.res(f"studies/{sid}.json"),
                   study_document(study, outcomes, self.A["measure"], self.A["smd_variance"],
                                  dict(self.A["zero_cells"])))
        rob_path = self.review / "risk_of_bias" / f"{sid}.yaml"
        write_json(self.res(f"rob/studies/{sid}.json"), rob_document(load_rob(rob_path, load_tool("syrcle"))))

    def rob_summary(self, plan) -> None:
        from livingmeta.jsonio import read_json, write_json
        from livingmeta.rob import load_tool, summarise

        docs = [read_json(self.res(f"rob/studies/{s}.json")) for s in plan.rob_files]
        write_json(self.res("rob/summary.json"), summarise(docs, sorted(plan.studies), load_tool("syrcle")))

    def analysis(self, a) -> None:
        from livingmeta import analyses
        from livingmeta.jsonio import read_json, write_json

        meta = {"analysis": a.id, "outcome": a.outcome, "timepoint": a.timepoint, "label": a.label,
                "higher_is_better": a.higher_is_better}
        full = a.model(self.A)
        model = {k: full[k] for k in ("measure", "method", "test", "level", "prediction_interval", "zero_cells",
                                      "units_harmonised")}
        docs = [read_json(self.res(f"studies/{s}.json")) for s in a.studies]
        rows = analyses.collect_effects(docs, a.id)
        out = self.res(f"analyses/{a.id}")
        write_json(out / "pooled.json", analyses.pool_analysis(
            rows, meta, {**model, "small_study_min_k": full["small_study_min_k"]}))
        groups = {d["study"]: d.get("groups") or {} for d in docs}
        write_json(out / "subgroups.json", analyses.subgroups_for_analysis(
            rows, groups, meta, model, list(self.A["subgroups"]), self.A["subgroup_tau2"]))
        write_json(out / "leave_one_out.json", analyses.leave_one_out_for_analysis(rows, meta, model))

    def prisma(self) -> None:
        from livingmeta.jsonio import write_json, write_text_atomic
        from livingmeta.records import prisma, prisma_csv
        from livingmeta.records.dedup import build_library
        from livingmeta.records.screening import screen

        library = build_library([], [], decisions_file="")
        result = prisma.compute_prisma(library, screen(library, [], None), None)
        write_json(self.res("records/prisma.json"), result)
        write_text_atomic(self.res("records/PRISMA2020.csv"), prisma_csv.export_csv_text(result))

    def make_all(self) -> None:
        plan = self.plan()
        for sid, path in plan.studies.items():
            self.study(sid, path)
        self.rob_summary(plan)
        for a in plan.analyses.values():
            self.analysis(a)
        self.prisma()

    def report_inputs(self) -> dict:
        plan = self.plan()
        ids = list(plan.analyses)
        return dict(
            prisma_path=str(self.res("records/prisma.json")),
            study_paths=[str(self.res(f"studies/{s}.json")) for s in plan.studies],
            rob_path=str(self.res("rob/summary.json")),
            pooled_paths=[str(self.res(f"analyses/{a}/pooled.json")) for a in ids],
            subgroups_paths=[str(self.res(f"analyses/{a}/subgroups.json")) for a in ids],
            loo_paths=[str(self.res(f"analyses/{a}/leave_one_out.json")) for a in ids],
            review_path=str(self.review / "review.yaml"), config=self.cfg, reports_dir=str(self.root / "reports"))


# ------------------------------------------------------------------------------------------------------
# the report job, step by step as scripts/report.py runs it


def report_job(inputs: Inputs, threads: int, out: Path) -> dict:
    """Run the report job's steps into ``out``; returns {step: seconds} and what it made."""
    from livingmeta.report.job import run_report
    from livingmeta.report.layout import uses_pages

    import resource

    def cpu() -> float:
        return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                   for f in ("ru_utime", "ru_stime"))

    outputs = {"results": out / "results.json", "html": out / "report.html", "figures": out / "figures/index.csv",
               "data": out / "data/index.csv", "export": out / "export/index.csv", "pdf": out / "report.pdf"}
    n_studies, n_analyses = len(inputs.plan().studies), len(inputs.plan().analyses)
    if uses_pages(inputs.cfg["report"].get("layout"), n_studies, n_analyses):
        outputs |= {"pages": out / "pages/index.csv", "appendix_pdf": out / "report-appendix.pdf"}
    before, start = cpu(), time.perf_counter()
    done = run_report(inputs.report_inputs(), {k: str(v) for k, v in outputs.items()},
                      cache=str(inputs.res("report/pdf_parts")), content_cache=str(inputs.res(".cache")),
                      threads=threads,
                      prisma_csv=str(inputs.res("records/PRISMA2020.csv")))
    done["wall"], done["cpu"] = time.perf_counter() - start, cpu() - before
    return done


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages) if path.exists() else 0


def size(path: Path) -> str:
    if path.is_dir():
        total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return f"{total / 1e6:.1f} MB ({sum(1 for p in path.rglob('*') if p.is_file())} files)"
    return f"{path.stat().st_size / 1e6:.2f} MB" if path.exists() else "-"


def show(title: str, stats: dict, out: Path) -> None:
    steps = stats["seconds"]
    print(f"  {title}: {stats['wall']:.1f} s wall, {stats['cpu']:.1f} s CPU (this process and its PDF workers)\n"
          "    steps: " + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()))
    pdf = stats.get("pdf")
    for doc in (pdf, (pdf or {}).get("appendix")):
        if doc:
            names = doc["rendered_parts"]
            print(f"    PDF{' appendix' if doc is not pdf else ''}: {doc['pages']} pages from {doc['parts']} parts; "
                  f"rendered {doc['rendered']}" + (f" ({', '.join(names)})" if len(names) <= 16 else ""))
    for name in sorted(os.listdir(out)):
        p = out / name
        if name == "pdf_parts" or name.startswith("."):
            continue
        extra = f", {pdf_pages(p)} pages" if name.endswith(".pdf") else ""
        print(f"    {name:28s} {size(p)}{extra}")


def one(n: int, analyses: int, threads: int, keep: Path | None, profile: str | None, warm: bool = False) -> None:
    tmp = None
    if keep is not None:
        root = keep / f"N{n}_A{analyses}"
    else:
        tmp = tempfile.mkdtemp(prefix="bench_report_")
        root = Path(tmp) / "review_root"
    try:
        inputs_made = root / "results" / ".inputs_done"
        if not inputs_made.exists():
            if root.exists():
                shutil.rmtree(root)
            write_review(root, n, analyses)
            start = time.perf_counter()
            inputs = Inputs(root)
            inputs.make_all()
            inputs_made.write_text("ok")
            print(f"N = {n}: made the report's inputs in {time.perf_counter() - start:.0f} s (not measured)")
        inputs = Inputs(root)
        # a fresh state: the base review without the added study, no report
        new = inputs.review / "studies" / "study_new.yaml"
        if new.exists():
            new.unlink()
            (inputs.review / "risk_of_bias" / "study_new.yaml").unlink()
            for p in (inputs.res("studies/study_new.json"), inputs.res("rob/studies/study_new.json")):
                p.unlink(missing_ok=True)
            plan = inputs.plan()
            for aid in json.loads((root / "results" / ".new_analyses").read_text()):
                inputs.analysis(plan.analyses[aid])
            inputs.rob_summary(plan)
        out = inputs.res("report")
        print(f"N = {n} studies x {analyses} analyses, {threads} PDF worker(s)")
        if warm and out.exists():  # the cache of an earlier run (what changed since is rendered again)
            show("report of the base review, warm cache", report_job(inputs, threads, out), out)
        else:
            shutil.rmtree(out, ignore_errors=True)
            show("report from scratch", report_job(inputs, threads, out), out)

        # add one study reporting 4 analyses, re-make its inputs as the workflow would
        rng = random.Random(99)
        ids = [(f"outcome_{o:02d}", tp) for o in range(max(1, analyses // 2)) for tp in ("4 weeks", "8 weeks")]
        write_study(inputs.review, "study_new", rng, rng.sample(ids, 4), {a: 0.8 for a in ids})
        start = time.perf_counter()
        plan = inputs.plan()
        inputs.study("study_new", plan.studies["study_new"])
        touched = [a for a in plan.analyses.values() if "study_new" in a.studies]
        (root / "results" / ".new_analyses").write_text(json.dumps([a.id for a in touched]))
        for a in touched:
            inputs.analysis(a)
        inputs.rob_summary(plan)
        print(f"  add one study: its inputs (1 study, {len(touched)} analyses x 3, rob summary) "
              f"{time.perf_counter() - start:.1f} s in one process")
        if profile == "add":
            import cProfile
            import pstats

            prof = cProfile.Profile()
            stats = prof.runcall(report_job, inputs, threads, out)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        else:
            stats = report_job(inputs, threads, out)
        show("report after adding one study", stats, out)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--studies", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--analyses", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", type=Path)
    ap.add_argument("--profile", choices=["add"])
    ap.add_argument("--warm", action="store_true", help="with --keep: start from the kept report and its PDF "
                                                         "cache instead of from scratch")
    a = ap.parse_args()
    for n in a.studies:
        one(n, a.analyses, a.threads, a.keep, a.profile, a.warm)


if __name__ == "__main__":
    main()
