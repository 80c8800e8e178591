"""Operator set-up steps shared by the CLI commands (create a business if it is missing)."""

from __future__ import annotations

from collections.abc import Callable

from ledgerlens.core.ledger import Business
from ledgerlens.core.ports import UnitOfWork

__all__ = ["ensure_business"]


def ensure_business(
    uow_factory: Callable[[], UnitOfWork],
    business_id: str,
    name: str,
    country: str,
    base_currency: str,
) -> bool:
    """Create the business unless it exists; True when created."""
    with uow_factory() as uow:
        if uow.businesses.get(business_id) is not None:
            return False
        uow.businesses.add(Business(business_id, name, country.upper(), base_currency.upper()))
        uow.commit()
        return True
