"""The two caches that make cost follow what changed: planning's per-file cache (livingmeta/plancache.py)
and the content cache of derived per-study documents (livingmeta/contentcache.py,
livingmeta/extraction/documents.py)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from livingmeta import preflight
from livingmeta.errors import ReviewInputError
from livingmeta.extraction.documents import rob_documents, study_documents
from livingmeta.plan import scan_review
from livingmeta.plancache import PlanCache

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def review(tmp_path) -> Path:
    dest = tmp_path / "review"
    shutil.copytree(REPO / "review", dest)
    return dest


def counting_yaml(monkeypatch) -> list[str]:
    """Every study or risk-of-bias YAML file parsed from now on (planning reads through these two)."""
    import livingmeta.extraction.yamlio as yamlio
    import livingmeta.plan as plan

    read: list[str] = []
    original_safe, original_load = plan._safe_yaml, yamlio.load_yaml

    def safe(path):
        read.append(Path(path).name)
        return original_safe(path)

    def load(path, **kw):
        read.append(Path(path).name)
        return original_load(path, **kw)

    monkeypatch.setattr(plan, "_safe_yaml", safe)
    monkeypatch.setattr(yamlio, "load_yaml", load)
    import livingmeta.extraction.studyfile as studyfile
    import livingmeta.rob as rob

    monkeypatch.setattr(studyfile, "load_yaml", load)
    monkeypatch.setattr(rob, "load_yaml", load)
    return read


def plan_and_check(review: Path, cache_path: Path):
    cache = PlanCache(cache_path)
    plan = scan_review(review, cache=cache)
    found = preflight.problems(str(review), plan, default_measure="SMD", rob_tool="syrcle", cache=cache)
    cache.save()
    return plan, found


def test_planning_reads_only_the_files_that_changed(review, tmp_path, monkeypatch):
    cache_path = tmp_path / "results" / ".livingmeta" / "plan-cache.json"
    first, problems = plan_and_check(review, cache_path)
    assert problems == [] and cache_path.exists()
    read = counting_yaml(monkeypatch)
    again, problems = plan_and_check(review, cache_path)
    assert problems == []
    studies = {Path(p).name for p in first.studies.values()}
    assert not studies & set(read), read      # no study or risk-of-bias file read again
    assert {k: v.studies for k, v in again.analyses.items()} == {k: v.studies for k, v in first.analyses.items()}
    assert again.synthesis_studies == first.synthesis_studies

    # an edited study file is read again, and only it
    path = review / "studies" / "liao2021.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    read.clear()
    plan_and_check(review, cache_path)
    assert sorted(set(read) - {"outcomes.yaml"}) == ["liao2021.yaml"]

    # a change to outcomes.yaml checks every study file again (the plan of analyses is still from the cache)
    outcomes = review / "outcomes.yaml"
    outcomes.write_text(outcomes.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    read.clear()
    plan_and_check(review, cache_path)
    assert studies <= set(read)


def test_a_bad_file_is_reported_at_every_run_and_never_cached_as_valid(review, tmp_path):
    cache_path = tmp_path / "plan-cache.json"
    plan_and_check(review, cache_path)
    path = review / "studies" / "liao2021.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("sd: 5.2", "sd: -5.2", 1), encoding="utf-8")
    for _ in range(2):
        _, problems = plan_and_check(review, cache_path)
        assert [p.file for p in problems] == [str(path)] and "must be > 0" in problems[0].message
    rob = review / "risk_of_bias" / "shi2024.yaml"
    rob.write_text(rob.read_text(encoding="utf-8").replace("judgement: low", "judgement: lowish", 1),
                   encoding="utf-8")
    for _ in range(2):
        _, problems = plan_and_check(review, cache_path)
        assert str(rob) in {p.file for p in problems}


def test_a_file_replaced_with_the_same_size_and_time_is_still_read_again(review, tmp_path):
    """The signature holds the status-change time and the inode, which no editor or copy can keep."""
    cache_path = tmp_path / "plan-cache.json"
    plan_and_check(review, cache_path)
    path = review / "studies" / "liao2021.yaml"
    st = os.stat(path)
    text = path.read_text(encoding="utf-8")
    bad = text.replace("sd: 5.2", "sd: 0.0", 1)
    assert len(bad) == len(text)
    path.write_text(bad, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))   # same size, same modification time
    _, problems = plan_and_check(review, cache_path)
    assert [p.file for p in problems] == [str(path)]


def test_a_damaged_cache_is_ignored(review, tmp_path):
    cache_path = tmp_path / "plan-cache.json"
    cache_path.write_text("{not json", encoding="utf-8")
    plan, problems = plan_and_check(review, cache_path)
    assert problems == [] and plan.analyses
    assert json.loads(cache_path.read_text(encoding="utf-8"))["format"] == 1


# ------------------------------------------------------------------------------------- content cache


def documents(review: Path, cache: Path | None, counts: dict | None = None, measure: str = "SMD"):
    paths = sorted(str(p) for p in (review / "studies").glob("*.yaml"))
    return study_documents(paths, str(review / "outcomes.yaml"), measure=measure, smd_variance="LS",
                           zero_cells={}, cache_dir=str(cache) if cache else None, counts=counts)


def test_documents_from_the_cache_equal_documents_computed_afresh(review, tmp_path):
    cache = tmp_path / "cache"
    fresh = documents(review, None)
    first_counts, second_counts = {}, {}
    assert documents(review, cache, first_counts) == fresh
    assert documents(review, cache, second_counts) == fresh
    n = len(fresh)
    assert first_counts == {"derived": n, "cached": 0} and second_counts == {"derived": 0, "cached": n}
    # an edited file, another measure or a changed outcomes.yaml is derived again
    path = review / "studies" / "liao2021.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("mean: 68.4", "mean: 68.5", 1), encoding="utf-8")
    counts = {}
    edited = documents(review, cache, counts)
    assert counts == {"derived": 1, "cached": n - 1}
    assert edited == documents(review, None)
    assert edited != fresh
    counts = {}
    documents(review, cache, counts, measure="MD")
    assert counts["derived"] == n


def test_a_damaged_cache_entry_is_a_miss_and_a_bad_file_still_raises(review, tmp_path):
    cache = tmp_path / "cache"
    fresh = documents(review, cache)
    for entry in cache.rglob("*.json"):
        entry.write_text("{damaged", encoding="utf-8")
    counts = {}
    assert documents(review, cache, counts) == fresh and counts["derived"] == len(fresh)
    path = review / "studies" / "liao2021.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("sd: 5.2", "sd: -5.2", 1), encoding="utf-8")
    with pytest.raises(ReviewInputError, match="must be > 0"):
        documents(review, cache)


def test_risk_of_bias_documents_are_cached_by_content(review, tmp_path):
    paths = sorted(str(p) for p in (review / "risk_of_bias").glob("*.yaml"))
    first, second = {}, {}
    a = rob_documents(paths, "syrcle", cache_dir=str(tmp_path / "c"), counts=first)
    b = rob_documents(paths, "syrcle", cache_dir=str(tmp_path / "c"), counts=second)
    assert a == b == rob_documents(paths, "syrcle")
    assert first["derived"] == len(paths) and second == {"derived": 0, "cached": len(paths)}


def test_prune_keeps_only_the_entries_named(tmp_path):
    from livingmeta.contentcache import ContentCache

    cache = ContentCache(tmp_path, "ns")
    for key in ("aa11", "bb22", "cc33"):
        cache.put(key, {"k": key})
    cache.prune({"bb22"})
    assert [p.stem for p in (tmp_path / "ns").rglob("*.json")] == ["bb22"]
    ContentCache(None, "ns").prune(set())  # no cache: nothing to do
