"""One small world per test session (20 businesses x 12 months), shared by the synth tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlens.synth import generate_world, write_world
from ledgerlens.synth.model import World

SEED = 11
N_BUSINESSES = 20
MONTHS = 12


@pytest.fixture(scope="session")
def synth_world() -> World:
    return generate_world(N_BUSINESSES, MONTHS, SEED, workers=1)


@pytest.fixture(scope="session")
def synth_files(synth_world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth_world")
    write_world(synth_world, out, {"csv", "camt053", "mt940", "bankcsv"}, workers=1)
    return out
