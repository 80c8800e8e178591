"""Identifiers: opaque random ids for new entities, stable hashes for things seen again."""

from __future__ import annotations

import hashlib
import uuid

__all__ = ["new_id", "stable_id"]


def new_id(prefix: str) -> str:
    """A new random id such as ``acc_4f1c…``; the prefix tells a reader what it names."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id from its parts: the same parts always give the same id."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}_{h[:24]}"
