"""Constrained field types shared by the request models.

Strings refuse control characters and anything that is not encodable UTF-8 (a lone surrogate
from a JSON ``\\ud800`` escape): both would be stored wrongly or refused by the database later
as a 500; here they are a 422 naming the field. Amounts are decimal strings, never floats.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints

__all__ = ["AmountText", "CurrencyCode", "IdText", "IsoDate", "LongText", "MccText", "ShortText"]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    """Only ``yyyy-mm-dd`` (or a date): pydantic's lax mode would read ``0`` as a Unix time."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("a date must be written yyyy-mm-dd")


#: A calendar date as ISO ``yyyy-mm-dd`` text, nothing else (query strings and JSON alike).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _utf8(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return value


_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"

IdText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"),
    AfterValidator(_utf8),
]
ShortText = Annotated[
    str, StringConstraints(max_length=140, pattern=_NO_CONTROL), AfterValidator(_utf8)
]
LongText = Annotated[
    str, StringConstraints(max_length=1000, pattern=_NO_CONTROL), AfterValidator(_utf8)
]
AmountText = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MccText = Annotated[str, StringConstraints(pattern=r"^([0-9]{4})?$")]
