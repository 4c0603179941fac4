"""Paths for the records tests: shared data is read in place from ../shared/data (never copied)."""
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def exports_dir() -> Path:
    path = SHARED / "exports"
    if not path.is_dir():
        pytest.skip(f"shared exports not found at {path}")
    return path


@pytest.fixture(scope="session")
def dedup_dir() -> Path:
    path = SHARED / "dedup"
    if not path.is_dir():
        pytest.skip(f"shared dedup sets not found at {path}")
    return path
