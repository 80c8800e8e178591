"""Onboarding through the API: a new business, its accounts, and the page of businesses.

Country and currency codes are enumerated in the schema (ISO 3166-1 alpha-2 and ISO 4217), so a
client learns the valid values from the OpenAPI document. An IBAN's check digits (ISO 13616,
mod 97) and its length for the country cannot be written in a schema: ``iban_problem`` checks
them (python-stdnum) and the route answers a 422 ``refused`` problem naming ``iban``, never
echoing the value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from stdnum import iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

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


def normalize_iban(text: str) -> str:
    """``gb82 west 1234 …`` → ``GB82WEST1234…`` (the electronic form banks store)."""
    return iban.compact(text)


def iban_problem(number: str) -> str | None:
    """Why ``number`` (normalized) is not a valid IBAN, or None; the message never quotes it.
    The country's length and format and the check digits come from python-stdnum's copy of
    the ISO 13616 registry."""
    try:
        iban.validate(number, check_country=True)
    except InvalidChecksum:
        return "the IBAN's check digits do not match (ISO 13616, mod 97)"
    except InvalidLength:
        return "an IBAN of this country has another length"
    except InvalidComponent:
        return "the IBAN's country or account part is not valid for its country"
    except ValidationError:
        return "not an IBAN: a country code, 2 check digits and up to 30 letters or digits"
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
