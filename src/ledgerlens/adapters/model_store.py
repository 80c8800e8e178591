"""The model store: ``<root>/<name>/<version>/`` holding the artifact and its ``manifest.json``.

Artifacts are skops (or ONNX) files, never bare pickle. The manifest names the data snapshot,
validation metrics, feature schema, library versions and the artifact's sha256; loading
recomputes the sha256 and refuses a file that does not match, and only the types listed in
``TRUSTED_TYPES`` may be rebuilt from a skops file. Loading happens once, in the composition
root (or a command), never at import time.

The default model ships inside the package (``ledgerlens/models/<name>/<version>/``) so that a
fresh install categorizes offline; ``packaged_root()`` points there.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ledgerlens.core.errors import LedgerLensError, NotFound

__all__ = [
    "TRUSTED_TYPES",
    "ModelIntegrityError",
    "ModelStore",
    "StoredModel",
    "dumps_skops",
    "load_categorizer",
    "loads_skops",
    "packaged_root",
]

MANIFEST = "manifest.json"
TRUSTED_TYPES = (
    "ledgerlens.enrich.categorize.model.CategorizerModel",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "builtins.slice",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
)
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")


class ModelIntegrityError(LedgerLensError):
    """A stored artifact does not match its manifest (hash, missing file, untrusted type)."""


@dataclass(frozen=True, slots=True)
class StoredModel:
    name: str
    version: str
    path: Path
    manifest: dict[str, Any]

    @property
    def artifact_path(self) -> Path:
        return self.path / str(self.manifest["artifact"]["file"])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def packaged_root() -> Path:
    """Where the shipped default models live (inside the installed package)."""
    return Path(str(resources.files("ledgerlens").joinpath("models")))


class ModelStore:
    """A folder of versioned models; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def versions(self, name: str) -> list[str]:
        """Stored versions of ``name``, oldest first (numeric-aware order)."""
        folder = self.root / name
        if not folder.is_dir():
            return []
        found = [p.name for p in folder.iterdir() if (p / MANIFEST).is_file()]
        return sorted(found, key=_version_key)

    def save(
        self, name: str, version: str, artifact: bytes, filename: str, manifest: dict[str, Any]
    ) -> StoredModel:
        """Write the artifact and its manifest (with the artifact's sha256 and size)."""
        if not _VERSION_RE.match(version) or not _VERSION_RE.match(name):
            raise ValueError(f"bad model name or version: {name!r} {version!r}")
        folder = self.root / name / version
        folder.mkdir(parents=True, exist_ok=True)
        (folder / filename).write_bytes(artifact)
        doc = dict(manifest)
        doc.update(name=name, version=version, artifact={
            "file": filename, "sha256": hashlib.sha256(artifact).hexdigest(),
            "bytes": len(artifact)})  # fmt: skip
        (folder / MANIFEST).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", "utf-8")
        return StoredModel(name, version, folder, doc)

    def get(self, name: str, version: str | None = None) -> StoredModel:
        """The manifest of one version (the newest when ``version`` is None), hash verified."""
        versions = self.versions(name)
        if version is None:
            if not versions:
                raise NotFound(f"no stored model {name!r} under {self.root}")
            version = versions[-1]
        folder = self.root / name / version
        if not (folder / MANIFEST).is_file():
            raise NotFound(f"no model {name}@{version} under {self.root}")
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        stored = StoredModel(name, version, folder, manifest)
        path = stored.artifact_path
        if not path.is_file():
            raise ModelIntegrityError(f"{name}@{version}: artifact {path.name} is missing")
        if sha256_file(path) != manifest["artifact"]["sha256"]:
            raise ModelIntegrityError(f"{name}@{version}: artifact sha256 does not match manifest")
        return stored


def _version_key(v: str) -> tuple[tuple[int, object], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[._-]", v))


def dumps_skops(obj: object) -> bytes:
    import skops.io as sio

    return sio.dumps(obj, compression=8)  # ZIP_DEFLATED


def loads_skops(data: bytes) -> Any:
    """Rebuild an object from skops bytes, refusing any type outside ``TRUSTED_TYPES``."""
    import skops.io as sio

    untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in TRUSTED_TYPES]
    if untrusted:
        raise ModelIntegrityError(f"artifact holds untrusted types: {', '.join(untrusted)}")
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


def load_categorizer(root: Path | None = None, version: str | None = None) -> tuple[Any, str]:
    """(Categorizer service, version) from a store (the packaged one by default)."""
    from ledgerlens.enrich.categorize.service import Categorizer

    stored = ModelStore(root or packaged_root()).get("categorizer", version)
    model = loads_skops(stored.artifact_path.read_bytes())
    return Categorizer(model, stored.version), stored.version
