"""livingmeta/codedeps.py: the livingmeta code a workflow script runs, whose digest is a parameter of its rule,
so that a livingmeta upgrade re-runs exactly the jobs whose code changed."""
from __future__ import annotations

import shutil

from livingmeta import codedeps
from tests.workflow.helpers import REPO, planned_jobs, snakemake, copy_example

SCRIPTS = REPO / "scripts"


def names(script: str) -> set[str]:
    return {str(p.relative_to(codedeps.PACKAGE)) for p in codedeps.code_files(SCRIPTS / script)}


def test_each_script_runs_the_modules_it_imports_and_no_other():
    analysis = names("analysis.py")
    # direct, transitive, function-level and relative imports (stats/__init__.py: from .rma import ...)
    assert {"analyses.py", "comparisons.py", "stats/rma.py", "stats/multilevel.py", "stats/subgroups.py",
            "extraction/effects.py", "jsonio.py"} <= analysis
    assert not any(name.startswith(("report/", "records/", "living/")) for name in analysis)
    parse = names("parse_export.py")
    assert {"records/ingest.py", "records/ris.py", "records/cochrane.py", "records/csvfile.py"} <= parse
    assert not any(name.startswith(("stats/", "report/")) for name in parse)
    assert "living/changes.py" in names("report.py")


def test_the_digest_changes_with_the_code_the_script_runs_only(tmp_path, monkeypatch):
    package = tmp_path / "livingmeta"
    shutil.copytree(codedeps.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codedeps, "PACKAGE", package)
    script = SCRIPTS / "analysis.py"

    def digest():
        codedeps.imported_files.cache_clear()
        codedeps.script_code_digest.cache_clear()
        return codedeps.script_code_digest(str(script))

    before = digest()
    (package / "report" / "pdf.py").write_text((package / "report" / "pdf.py").read_text() + "\n# edited\n")
    assert digest() == before            # the PDF's code is not the analysis's
    (package / "stats" / "rma.py").write_text((package / "stats" / "rma.py").read_text() + "\n# a fix\n")
    assert digest() != before            # a statistic's code is
    codedeps.imported_files.cache_clear()
    codedeps.script_code_digest.cache_clear()


def test_a_run_plans_nothing_again_with_the_code_parameter(tmp_path):
    work = copy_example(tmp_path / "example")
    snakemake(work, check=True)
    assert not planned_jobs(work)
