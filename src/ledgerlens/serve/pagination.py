"""Opaque cursors for keyset pagination: the position after the last row, bound to the filter.

A cursor is base64url JSON ``[booking_date, seq, filter_fingerprint]``. Clients must treat it
as opaque; the fingerprint makes a cursor from one query refuse to continue another (400),
because a keyset position is meaningless under different filters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date
from typing import TypeVar

from ledgerlens.adapters.db.transaction_search import TransactionFilter
from ledgerlens.serve.errors import ApiProblem

__all__ = [
    "MAX_LIMIT",
    "decode_cursor",
    "decode_keyset",
    "encode_cursor",
    "encode_keyset",
    "filter_fingerprint",
]

MAX_LIMIT = 500
_Key = TypeVar("_Key", str, int)


def filter_fingerprint(flt: TransactionFilter) -> str:
    fields: tuple[object, ...] = (
        flt.account_id,
        flt.since,
        flt.until,
        flt.text,
        flt.min_amount,
        flt.max_amount,
    )
    if flt.category is not None:  # only when set: cursors already handed out stay valid
        fields += (flt.category,)
    raw = repr(fields)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def encode_cursor(last_date: date, last_seq: int, flt: TransactionFilter) -> str:
    raw = json.dumps([last_date.isoformat(), last_seq, filter_fingerprint(flt)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, flt: TransactionFilter) -> tuple[date, int]:
    """The keyset position in ``cursor``; ``ApiProblem(400)`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        day, seq, fingerprint = json.loads(raw)
        position = (date.fromisoformat(day), int(seq))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "invalid cursor", slug="invalid-cursor") from exc
    if fingerprint != filter_fingerprint(flt):
        raise ApiProblem(
            400, "the cursor belongs to a query with other filters", slug="invalid-cursor"
        )
    return position


def encode_keyset(tag: str, key: str | int) -> str:
    """An opaque cursor for another listing: its ``tag`` (the listing and, where it filters,
    a fingerprint of the filters) and the key of the last row served."""
    raw = json.dumps([tag, key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keyset(cursor: str, tag: str, key_type: type[_Key]) -> _Key:
    """The key in an ``encode_keyset`` cursor; ``ApiProblem(400)`` when the cursor is not one
    of this listing's under the same filters, or its key is not a ``key_type``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, key = json.loads(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "invalid cursor", slug="invalid-cursor") from exc
    if found != tag or type(key) is not key_type:
        raise ApiProblem(400, "invalid cursor", slug="invalid-cursor")
    found_key: _Key = key
    return found_key
