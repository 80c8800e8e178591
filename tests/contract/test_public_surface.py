"""Each stage's curated public surface: every name in ``__all__`` exists, nothing private leaks."""

from __future__ import annotations

import importlib

import pytest

STAGES = ["ledgerlens.core", "ledgerlens.ingest", "ledgerlens.analyze.cashflow"]


@pytest.mark.parametrize("module", STAGES)
def test_all_names_exist_and_are_public(module: str) -> None:
    mod = importlib.import_module(module)
    exported = list(mod.__all__)
    assert exported == sorted(exported, key=str.lower) or len(set(exported)) == len(exported)
    for name in exported:
        assert not name.startswith("_")
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"
    public = {n for n in vars(mod) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(mod, n)).__name__ == "module"}
    assert public - submodules - {"annotations"} <= set(exported)
