"""Shared fixtures: where the real third-party data lies, and how to skip when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXTERNAL_DATA = REPO_ROOT.parent / "shared" / "data" / "external"


@pytest.fixture(scope="session")
def external_data() -> Path:
    """The shared folder of real bank statements and data sets (never copied into the repo)."""
    if not EXTERNAL_DATA.is_dir():
        pytest.skip(f"real data not found at {EXTERNAL_DATA} (the shared/ folder beside the repo)")
    return EXTERNAL_DATA
