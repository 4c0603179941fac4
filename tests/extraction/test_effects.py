"""Per-study effect sizes (results/studies/<study>.json) and the example review's illustrative numbers."""
from __future__ import annotations

import math

import pytest

from livingmeta.errors import ReviewInputError
from livingmeta.extraction.effects import compute_effects, study_document
from livingmeta.extraction.outcomes import load_outcomes
from livingmeta.extraction.studyfile import load_studies, load_study

from .helpers import STUDY, make_review


def hedges_g(m1, sd1, n1, m2, sd2, n2):
    """By hand: g = J (m1 - m2) / sp, J exact; metafor's large-sample variance (vtype LS)."""
    m = n1 + n2 - 2
    J = math.exp(math.lgamma(m / 2) - math.log(math.sqrt(m / 2)) - math.lgamma((m - 1) / 2))
    sp = math.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / m)
    g = J * (m1 - m2) / sp
    return g, 1 / n1 + 1 / n2 + g ** 2 / (2 * (n1 + n2))


def loaded(tmp_path, text=None):
    outcomes_path, study_path = make_review(tmp_path, text)
    outcomes = load_outcomes(outcomes_path)
    return load_study(study_path, outcomes), outcomes


def test_smd_by_hand_with_se_converted_to_sd(tmp_path):
    study, outcomes = loaded(tmp_path)
    dhi, mri = compute_effects(study, outcomes, "SMD", "LS")
    sd2 = 2.3 * math.sqrt(6)                      # control arm states SE = 2.3 with n = 6
    g, v = hedges_g(78.2, 6.1, 6, 61.0, sd2, 6)
    assert dhi["yi"] == pytest.approx(g, rel=1e-12) and dhi["vi"] == pytest.approx(v, rel=1e-12)
    # independent check of the exact J for m = 10: Gamma(5) / (sqrt(5) Gamma(4.5)),
    # Gamma(4.5) = 3.5 * 2.5 * 1.5 * 0.5 * sqrt(pi); sp^2 = (6.1^2 + 6 * 2.3^2) / 2
    J10 = 24 / (math.sqrt(5) * 6.5625 * math.sqrt(math.pi))
    assert J10 == pytest.approx(0.92275, abs=1e-5)
    assert dhi["yi"] == pytest.approx(J10 * 17.2 / math.sqrt((6.1 ** 2 + 6 * 2.3 ** 2) / 2), rel=1e-12)
    assert dhi["yi"] == pytest.approx(2.70308, abs=1e-5)
    assert (dhi["sd2i"], dhi["stated"]["control"]) == (pytest.approx(sd2), {"mean": 61.0, "se": 2.3, "n": 6})
    assert dhi["stated"]["treatment"] == {"mean": 78.2, "sd": 6.1, "n": 6}
    assert (dhi["n1i"], dhi["n2i"], dhi["m1i"], dhi["m2i"], dhi["sd1i"]) == (6, 6, 78.2, 61.0, 6.1)
    assert dhi["direction_flipped"] is False and mri["direction_flipped"] is False
    g, v = hedges_g(2.4, 0.5, 5, 4.1, 0.6, 5)
    assert mri["yi"] == pytest.approx(g, rel=1e-12) and mri["yi"] < 0   # lower MRI grade = better: negative


def test_variance_type_is_passed_on(tmp_path):
    study, outcomes = loaded(tmp_path)
    ls = compute_effects(study, outcomes, "SMD", "LS")[1]
    ub = compute_effects(study, outcomes, "SMD", "UB")[1]
    assert ls["yi"] == pytest.approx(ub["yi"]) and ls["vi"] != pytest.approx(ub["vi"])


def test_direction_is_flipped_when_the_study_points_the_other_way(tmp_path):
    # a study that scores disc height *loss* (lower is better) is flipped to the outcome's direction
    text = STUDY.format(sid="liao2021").replace("higher_is_better: true\n    provenance: figure",
                                                "higher_is_better: false\n    provenance: figure")
    study, outcomes = loaded(tmp_path, text)
    row = compute_effects(study, outcomes)[0]
    g, _ = hedges_g(78.2, 6.1, 6, 61.0, 2.3 * math.sqrt(6), 6)
    assert row["direction_flipped"] is True and row["yi"] == pytest.approx(-g)
    assert row["higher_is_better"] is False


def test_mean_difference_and_ratio_of_means(tmp_path):
    study, outcomes = loaded(tmp_path)
    md = compute_effects(study, outcomes, "MD")[0]
    assert md["yi"] == pytest.approx(17.2) and md["vi"] == pytest.approx(6.1 ** 2 / 6 + 2.3 ** 2)
    rom = compute_effects(study, outcomes, "ROM")[0]
    assert rom["yi"] == pytest.approx(math.log(78.2 / 61.0))
    bad = STUDY.format(sid="liao2021").replace("mean: 61.0", "mean: -1.0")
    study, outcomes = loaded(tmp_path / "bad", bad)
    with pytest.raises(ReviewInputError) as info:
        compute_effects(study, outcomes, "ROM")
    assert info.value.format().startswith(f"{study.file}: outcomes[0].control.mean: ")


def test_study_document_follows_the_architecture(tmp_path):
    study, outcomes = loaded(tmp_path)
    doc = study_document(study, outcomes)
    assert {"study", "file", "citation", "country", "characteristics", "groups", "illustrative",
            "effects"} <= set(doc)
    assert {"first_author", "year", "title", "journal", "doi", "pmid"} <= set(doc["citation"])
    assert doc["citation"]["doi"] is None                     # left out in the file: never invented
    row = doc["effects"][0]
    assert {"analysis", "outcome", "timepoint", "measure", "yi", "vi", "n1i", "n2i", "m1i", "sd1i", "m2i",
            "sd2i", "provenance", "source", "unit", "direction_flipped"} <= set(row)
    assert (row["analysis"], row["provenance"], row["source"], row["unit"]) == ("dhi__4_weeks", "figure",
                                                                                  "Fig. 3A", "%")
    assert doc["illustrative"] is False


# -- the example review -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example(repo):
    outcomes = load_outcomes(repo / "review" / "outcomes.yaml")
    studies = load_studies(repo / "review" / "studies", outcomes)
    return outcomes, studies


def test_the_ten_example_studies_validate(example):
    _, studies = example
    assert sorted(studies) == ["guan2023", "liao2021", "liao2022", "liu2023a", "liu2023b", "luo2021",
                               "peng2023", "shi2024", "xing2021", "zhan2025"]
    for study in studies.values():
        assert study.illustrative and all(e.provenance == "illustrative" for e in study.outcomes)
        for entry in study.outcomes:
            for arm in (entry.treatment, entry.control):
                assert 3 <= arm.n <= 10
    assert sum(e.control.stated == "se" for s in studies.values() for e in s.outcomes) >= 10
    assert studies["guan2023"].characteristics["n_animals"] == "NA"
    assert studies["peng2023"].characteristics["n_animals"] == "NA"
    assert studies["liu2023b"].groups["exosome_source"] == "M2c macrophage"


# Published (RevMan, random effects): SMD [95% CI]. k of the MRI 8-week analysis = 4 (two gelatin-based,
# two composite hydrogels); histological grade I2 = 61% and MSC-only subgroup -5.45 [-7.13, -3.77].
PUBLISHED = {
    "dhi__4_weeks": (2.07, 0.76, 3.38), "dhi__8_weeks": (3.15, 1.69, 4.61),
    "mri_grade__8_weeks": (-3.16, -4.40, -1.92), "histological_grade__end_of_study": (-4.49, -6.72, -2.27),
    "col2__8_weeks": (4.66, 2.17, 7.15), "col2__12_weeks": (5.10, 1.92, 8.27),
    "mmp13__8_weeks": (-6.09, -9.23, -2.95), "mmp13__12_weeks": (-14.16, -22.48, -5.84),
}
ESTIMATE_TOLERANCE = 0.35   # SMD units, for the default model and for DerSimonian-Laird with a z test
CI_TOLERANCE = 0.5          # DL + z (the published model) CI limits


def _rows(example):
    outcomes, studies = example
    rows: dict[str, list] = {}
    for study in studies.values():
        for e in study_document(study, outcomes)["effects"]:
            rows.setdefault(e["analysis"], []).append((study, e["yi"], e["vi"]))
    return rows


def test_example_pools_near_the_published_results(example):
    from livingmeta.stats import rma

    rows = _rows(example)
    for analysis, (est, lb, ub) in PUBLISHED.items():
        y, v = [r[1] for r in rows[analysis]], [r[2] for r in rows[analysis]]
        default = rma(y, v, method="REML", test="knha")
        revman = rma(y, v, method="DL", test="z")
        assert abs(default.beta[0] - est) < ESTIMATE_TOLERANCE, (analysis, default.beta[0])
        assert abs(revman.beta[0] - est) < ESTIMATE_TOLERANCE, (analysis, revman.beta[0])
        assert abs(revman.ci_lb[0] - lb) < CI_TOLERANCE and abs(revman.ci_ub[0] - ub) < CI_TOLERANCE, analysis
    mri8 = rows["mri_grade__8_weeks"]
    assert sorted(s.groups["hydrogel_type"] for s, _, _ in mri8) == ["composite", "composite",
                                                                      "gelatin-based", "gelatin-based"]
    assert rma([r[1] for r in mri8], [r[2] for r in mri8], method="DL", test="z").I2 < 10
    histo = rows["histological_grade__end_of_study"]
    assert "liu2023b" in [s.id for s, _, _ in histo]
    assert 50 < rma([r[1] for r in histo], [r[2] for r in histo], method="DL", test="z").I2 < 80
    msc = [r for r in histo if r[0].groups["exosome_source"] == "MSC"]
    assert abs(rma([r[1] for r in msc], [r[2] for r in msc], method="DL", test="z").beta[0] + 5.45) < 0.35
    # MRI at 12 weeks and the ageing markers (no published estimate): significant reductions
    for analysis in ("mri_grade__12_weeks", "p16__8_weeks", "p16__12_weeks", "p21__8_weeks", "p21__12_weeks"):
        fit = rma([r[1] for r in rows[analysis]], [r[2] for r in rows[analysis]], method="DL", test="z")
        assert fit.ci_ub[0] < 0, analysis
    assert {s.id for s, _, _ in rows["p16__8_weeks"]} == {"peng2023", "zhan2025"}
