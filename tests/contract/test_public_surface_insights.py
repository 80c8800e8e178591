"""The explain and consent stages' curated public surface (same rule as test_public_surface)."""

from __future__ import annotations

import importlib

import pytest

STAGES = ["ledgerlens.explain", "ledgerlens.consent", "ledgerlens.adapters.notifiers"]


@pytest.mark.parametrize("module", STAGES)
def test_all_names_exist_and_are_public(module: str) -> None:
    mod = importlib.import_module(module)
    exported = list(mod.__all__)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert not name.startswith("_")
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"
    public = {n for n in vars(mod) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(mod, n)).__name__ == "module"}
    assert public - submodules - {"annotations"} <= set(exported)
