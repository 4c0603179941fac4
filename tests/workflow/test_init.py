import subprocess
import sys

import pytest

from livingmeta.commands.init import scaffold

pytestmark = pytest.mark.workflow


def test_init_scaffolds_a_review_that_runs_as_is(tmp_path):
    review = tmp_path / "myreview"
    written = {p.relative_to(review).as_posix() for p in scaffold(review)}
    assert {"config.yaml", "review.yaml", "outcomes.yaml", "README.md", "studies/_template.yaml",
            "risk_of_bias/_template.yaml"} <= written
    for folder in ("searches", "screening", "studies", "risk_of_bias"):
        assert (review / folder).is_dir()
    proc = subprocess.run([sys.executable, "-m", "livingmeta.cli", "run", "--configfile", str(review / "config.yaml"),
                           "--cores", "1"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (review / "reports" / "latest" / "report.html").is_file()  # inside the review's own folder
    assert (review / "results" / "records" / "prisma.json").is_file()
    assert "published" in proc.stdout


def test_the_study_template_is_a_valid_study_file(tmp_path):
    from livingmeta.extraction.outcomes import parse_outcomes
    from livingmeta.extraction.studyfile import parse_study
    import yaml

    review = tmp_path / "r"
    scaffold(review)
    data = yaml.safe_load((review / "studies" / "_template.yaml").read_text())
    outcomes = parse_outcomes({"outcomes": [
        {"id": e["outcome"], "label": e["outcome"], "higher_is_better": True, "timepoints": [e["timepoint"]]}
        for e in data["outcomes"]]})
    study = parse_study(data, review / "studies" / f"{data['study']}.yaml", outcomes)
    assert study.id == data["study"]


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        scaffold(tmp_path / "x")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"
