"""Load the risk model from the model store (hash-verified JSON: LightGBM text + calibration).

Kept apart from ``model_store`` so the categorizer's loader and this one evolve independently;
both use the same ``ModelStore`` (manifest, sha256 check, packaged default).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ledgerlens.adapters.model_store import ModelStore, packaged_root

if TYPE_CHECKING:
    from ledgerlens.analyze.risk.model import RiskModel

__all__ = ["RISK_MODEL_NAME", "load_risk_model"]

RISK_MODEL_NAME = "risk"


def load_risk_model(root: Path | None = None, version: str | None = None) -> tuple[RiskModel, str]:
    """(RiskModel, version) from a store (the packaged default when ``root`` is None)."""
    from ledgerlens.analyze.risk.model import RiskModel

    stored = ModelStore(root or packaged_root()).get(RISK_MODEL_NAME, version)
    return RiskModel.from_json(stored.artifact_path.read_bytes()), stored.version
