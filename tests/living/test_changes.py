from livingmeta.living.changes import history, what_changed


def doc(version, analyses, studies=("a", "b"), screened=100, study_data=None):
    return {
        "version": version,
        "studies": [{"study": s, "data": (study_data or {}).get(s, 1)} for s in studies],
        "prisma": {"records_screened": screened, "total_studies": len(studies)},
        "analyses": [{"analysis": k, "outcome": k.split("__")[0], "timepoint": "4 weeks", **v}
                     for k, v in analyses.items()],
    }


def test_first_version_has_everything_new():
    cur = doc("2026-01-01", {"dhi__4_weeks": dict(k=2, estimate=1.0, ci_lb=0.2, ci_ub=1.8, I2=10.0)})
    out = what_changed(None, cur)
    assert out["previous_version"] is None
    assert out["studies_added"] == ["a", "b"]
    assert out["analyses"][0]["status"] == "new" and out["analyses"][0]["conclusion_changed"] is False


def test_added_and_corrected_studies_and_conclusion_flags():
    prev = doc("2026-01-01", {
        "dhi__4_weeks": dict(k=2, estimate=0.5, ci_lb=-0.1, ci_ub=1.1, I2=0.0),
        "mri__8_weeks": dict(k=2, estimate=-1.0, ci_lb=-1.5, ci_ub=-0.5, I2=0.0),
        "col2__8_weeks": dict(k=2, estimate=2.0, ci_lb=1.0, ci_ub=3.0, I2=5.0),
        "old__4_weeks": dict(k=2, estimate=2.0, ci_lb=1.0, ci_ub=3.0, I2=5.0),
    }, screened=100)
    cur = doc("2026-02-01", {
        "dhi__4_weeks": dict(k=3, estimate=0.8, ci_lb=0.1, ci_ub=1.5, I2=20.0),      # now excludes 0
        "mri__8_weeks": dict(k=3, estimate=-0.6, ci_lb=-1.4, ci_ub=0.2, I2=30.0),    # now includes 0
        "col2__8_weeks": dict(k=2, estimate=2.0, ci_lb=1.0, ci_ub=3.0, I2=5.0),      # unchanged
    }, studies=("a", "b", "c"), screened=130, study_data={"b": 2})
    out = what_changed(prev, cur)
    assert out["studies_added"] == ["c"] and out["studies_corrected"] == ["b"] and out["studies_removed"] == []
    assert out["records"]["records_screened"] == {"previous": 100, "current": 130}
    rows = {r["analysis"]: r for r in out["analyses"]}
    assert rows["dhi__4_weeks"]["status"] == "changed"
    assert rows["dhi__4_weeks"]["conclusion_changed"] and "now excludes" in rows["dhi__4_weeks"]["note"]
    assert rows["mri__8_weeks"]["conclusion_changed"] and "now includes" in rows["mri__8_weeks"]["note"]
    assert rows["col2__8_weeks"]["status"] == "unchanged" and not rows["col2__8_weeks"]["conclusion_changed"]
    assert rows["old__4_weeks"]["status"] == "removed" and rows["old__4_weeks"]["current"] is None
    assert rows["dhi__4_weeks"]["previous"]["k"] == 2 and rows["dhi__4_weeks"]["current"]["k"] == 3


def test_history_follows_each_analysis_across_versions():
    v1 = doc("2026-01-01", {"dhi__4_weeks": dict(k=2, estimate=0.5, ci_lb=-0.1, ci_ub=1.1)})
    v2 = doc("2026-02-01", {"dhi__4_weeks": dict(k=3, estimate=0.8, ci_lb=0.1, ci_ub=1.5),
                            "mri__8_weeks": dict(k=2, estimate=-1, ci_lb=-2, ci_ub=0)})
    cur = doc("2026-03-01", {"dhi__4_weeks": dict(k=4, estimate=0.9, ci_lb=0.3, ci_ub=1.5)})
    h = history([v1, v2], cur)
    assert [p["version"] for p in h["dhi__4_weeks"]] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert [p["k"] for p in h["dhi__4_weeks"]] == [2, 3, 4]
    assert [p["version"] for p in h["mri__8_weeks"]] == ["2026-02-01"]
    assert len(history([v1, v2], v2)["dhi__4_weeks"]) == 2  # re-rendering a published version adds nothing


def test_the_update_summary_names_added_removed_and_corrected_studies(tmp_path):
    import json

    from livingmeta.living.update import _change_summary

    for version, studies in (("2026-11-21", ("a", "b", "c")), ("2026-11-22", ("a", "c", "d"))):
        (tmp_path / version).mkdir()
        document = doc(version, {"x__4_weeks": dict(k=3, estimate=0.5, ci_lb=0.1, ci_ub=0.9)}, studies=studies)
        (tmp_path / version / "results.json").write_text(json.dumps(document))
    summary = _change_summary(tmp_path, "2026-11-22")
    assert summary.startswith("published 2026-11-22 (1 new study; 1 study removed: b")
