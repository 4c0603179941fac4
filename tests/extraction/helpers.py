"""Small builders for extraction tests: a review folder with outcomes.yaml and study files."""
from __future__ import annotations

from pathlib import Path

import pytest

from livingmeta.errors import ReviewInputError, ReviewInputErrors

OUTCOMES = """\
outcomes:
  - {id: dhi, label: Disc height index, unit: "%", higher_is_better: true, timepoints: [4 weeks, 8 weeks]}
  - {id: mri_grade, label: MRI grade, higher_is_better: false, timepoints: [8 weeks, 12 weeks]}
  - {id: histological_grade, label: Histological grade, higher_is_better: false, timepoints: [end of study]}
"""

STUDY = """\
# a complete, valid study file
study: {sid}
citation: {{first_author: Liao, year: 2021, label: Liao 2021}}
country: China
characteristics:
  species: SD rats
  sex: male
  n_animals: 20
  weight: "NA"
groups: {{hydrogel_type: composite, exosome_source: MSC, route: intradiscal}}
outcomes:
  - outcome: dhi
    timepoint: 4 weeks
    unit: "%"
    higher_is_better: true
    provenance: figure
    source: Fig. 3A
    treatment: {{mean: 78.2, sd: 6.1, n: 6}}
    control: {{mean: 61.0, se: 2.3, n: 6}}
  - outcome: mri_grade
    timepoint: 8 weeks
    unit: Pfirrmann grade
    higher_is_better: false
    provenance: table
    source: Table 2
    treatment: {{mean: 2.4, sd: 0.5, n: 5}}
    control: {{mean: 4.1, sd: 0.6, n: 5}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_review(root: Path, study_text: str | None = None, sid: str = "liao2021",
                name: str | None = None) -> tuple[Path, Path]:
    """(outcomes.yaml, studies/<name>.yaml) in root; study_text defaults to the valid STUDY."""
    outcomes = write(root / "outcomes.yaml", OUTCOMES)
    text = STUDY.format(sid=sid) if study_text is None else study_text
    study = write(root / "studies" / f"{name or sid}.yaml", text)
    return outcomes, study


def problems_of(err: ReviewInputError) -> list[ReviewInputError]:
    return list(err.errors) if isinstance(err, ReviewInputErrors) else [err]


def assert_names(err: ReviewInputError, file: Path | str, field: str, *, contains: str = "") -> ReviewInputError:
    """The error (or one of several) names file and field in its one-line message; returns that problem."""
    file = str(file)
    for problem in problems_of(err):
        line = problem.format()
        if problem.file == file and problem.field == field:
            assert line.startswith(f"{file}: {field}: "), line
            assert contains.lower() in line.lower(), line
            assert "\n" not in line
            return problem
    pytest.fail(f"no problem for {file}: {field} in:\n{err.format()}")
