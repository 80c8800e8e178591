"""ONNX export of the categorizer for on-device use, and an onnxruntime runner for parity checks.

The ONNX graph takes one string tensor ``input`` of shape [N, 2]: column 0 the model text,
column 1 the meta tokens — exactly the ``FeatureRow`` that ``enrich.categorize.features``
builds, so the app runs the same ``normalize_text`` before calling it. It outputs ``label`` and
``probabilities`` (already calibrated: the temperature is folded into the coefficients); the
app abstains below the threshold in the manifest. The exact parity rests on the choices in
DESIGN.md §4: ``analyzer="char"`` and an explicit ``token_pattern``, ``lowercase=False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ledgerlens.enrich.categorize.features import FeatureRow
from ledgerlens.enrich.categorize.model import CategorizerModel

__all__ = ["ONNX_CHUNK_ROWS", "export_onnx", "onnx_predict"]

ONNX_CHUNK_ROWS = 4000  # onnxruntime's string ops misbehave on much larger batches


def export_onnx(model: CategorizerModel, path: Path | None = None) -> bytes:
    """Serialized ONNX model; also written to ``path`` when given."""
    import warnings

    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import StringTensorType

    pipe = model.pipeline_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "only tokenizer='word' is fully supported"
        onx = to_onnx(
            pipe,
            initial_types=[("input", StringTensorType([None, 2]))],
            options={id(pipe.named_steps["clf"]): {"zipmap": False}},
            target_opset={"": 18, "ai.onnx.ml": 3},
        )
    onx.doc_string = "LedgerLens categorizer; input [N,2] = (text, meta) feature rows"
    data: bytes = onx.SerializeToString()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data


def onnx_session(data: bytes) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def onnx_predict(
    session: Any, rows: Sequence[FeatureRow], chunk: int = ONNX_CHUNK_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probabilities) from onnxruntime, run in chunks of at most ``chunk`` rows."""
    labels: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    for start in range(0, len(rows), chunk):
        part = np.array(rows[start : start + chunk], dtype=object).reshape(-1, 2)
        lab, prob = session.run(None, {"input": part})
        labels.append(np.asarray(lab))
        probs.append(np.asarray(prob))
    if not labels:
        return np.array([], dtype=object), np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(labels), np.concatenate(probs)
