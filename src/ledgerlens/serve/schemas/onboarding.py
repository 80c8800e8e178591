"""Onboarding through the API: a new business, its accounts, and the page of businesses.

Country and currency codes are enumerated in the schema (ISO 3166-1 alpha-2 and ISO 4217), so a
client learns the valid values from the OpenAPI document. An IBAN's check digits (ISO 13616,
mod 97) and its length for the country cannot be written in a schema: ``iban_problem`` checks
them and the route answers a 422 ``refused`` problem naming ``iban``, never echoing the value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ledgerlens.core.ledger import AccountType
from ledgerlens.core.money import ISO4217_CODES
from ledgerlens.serve.schemas.ledger import BusinessOut
from ledgerlens.serve.schemas.types import ShortText

__all__ = [
    "COUNTRY_CODES",
    "AccountIn",
    "BusinessIn",
    "BusinessPage",
    "iban_problem",
    "normalize_iban",
]

# CLDR territories that are not ISO 3166-1 countries (continents, unions, private-use codes);
# XK (Kosovo) stays: banks use it and it has IBANs.
_NOT_COUNTRIES = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB"}
COUNTRY_CODES: tuple[str, ...] = tuple(
    sorted(
        code
        for code in map(str, Locale("en").territories)
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES | {"ZZ"}
    )
)
if TYPE_CHECKING:
    CountryCode = str
    Currency = str
else:  # enumerated in the OpenAPI document
    CountryCode = Literal[COUNTRY_CODES]
    Currency = Literal[tuple(sorted(ISO4217_CODES))]

#: ids become path segments (``Location``): letters, digits and ``._-``, starting alphanumeric
ResourceId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
DisplayName = Annotated[
    str, StringConstraints(min_length=1, max_length=140, pattern=r"^[^\x00-\x1f\x7f]+$")
]
IbanText = Annotated[
    str,
    StringConstraints(
        min_length=15, max_length=42, pattern=r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{11,38}$"
    ),
]
AccountNumber = Annotated[
    str, StringConstraints(min_length=4, max_length=34, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
]

# ISO 13616 registry: the IBAN length of each country (a country not listed: 15–34 characters)
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def normalize_iban(text: str) -> str:
    """``gb82 west 1234 …`` → ``GB82WEST1234…`` (the electronic form banks store)."""
    return text.replace(" ", "").upper()


def iban_problem(iban: str) -> str | None:
    """Why ``iban`` (normalized) is not a valid IBAN, or None; the message never quotes it."""
    if not _IBAN_SHAPE.fullmatch(iban):
        return "an IBAN is a country code, 2 check digits and 11 to 30 letters or digits"
    country = iban[:2]
    if country not in COUNTRY_CODES:
        return "the IBAN's country code is not an ISO 3166 country"
    expected = _IBAN_LENGTHS.get(country)
    if expected is not None and len(iban) != expected:
        return f"an IBAN of {country} has {expected} characters"
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        return "the IBAN's check digits do not match (ISO 13616, mod 97)"
    return None


class BusinessIn(BaseModel):
    """A business (tenant) to register; ``business_id`` is the bank's own stable id for it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "business_id": "acme-bakery-ltd",
                    "name": "Acme Bakery Ltd",
                    "country": "GB",
                    "base_currency": "GBP",
                }
            ]
        },
    )

    business_id: ResourceId
    name: DisplayName
    country: CountryCode = Field(description="ISO 3166-1 alpha-2")
    base_currency: Currency = Field(description="ISO 4217")


class AccountIn(BaseModel):
    """An account of the business: an ``iban``, or an ``account_number`` where there is none
    (exactly one of the two). Two accounts of a business never share identifier and currency."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_id": "acme-gbp-current",
                    "iban": "GB82 WEST 1234 5698 7654 32",
                    "currency": "GBP",
                    "account_type": "current",
                    "name": "Main account",
                },
                {
                    "account_id": "acme-usd-ops",
                    "account_number": "021000021-123456789",
                    "currency": "USD",
                    "account_type": "currency",
                    "name": "USD operations",
                },
            ]
        },
    )

    account_id: ResourceId
    iban: IbanText | None = Field(default=None, description="ISO 13616; spaces allowed")
    account_number: AccountNumber | None = Field(
        default=None, description="the bank's account number, for accounts without an IBAN"
    )
    currency: Currency = Field(description="ISO 4217: the account's currency")
    account_type: AccountType = AccountType.CURRENT
    name: ShortText = ""


class BusinessPage(BaseModel):
    """A page of businesses by ``business_id``; pass ``next_cursor`` back as ``cursor``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "business_id": "acme-bakery-ltd",
                            "name": "Acme Bakery Ltd",
                            "country": "GB",
                            "base_currency": "GBP",
                            "created_at": "2026-10-01T09:30:00Z",
                        }
                    ],
                    "next_cursor": "WyJidXNpbmVzc2VzIiwgImFjbWUtYmFrZXJ5LWx0ZCJd",
                }
            ]
        }
    )

    items: list[BusinessOut]
    next_cursor: str | None = None
