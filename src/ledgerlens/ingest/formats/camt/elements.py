"""Reading ISO 20022 elements by local name, and reporting what is wrong with them.

CAMT files come in a dozen schema versions (camt.05x.001.01 … .13) whose namespaces differ while
the element names we need stay the same, and some banks add prefixes or omit the namespace. So
every lookup here goes by local names (``Flat``) and only the root check in ``parser.py`` looks
at the namespace at all.

Amounts and dates are read here once, so that every caller refuses sub-minor precision the same
way and names the element it came from in the issue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ledgerlens.core.errors import AmountError, CurrencyError
from ledgerlens.core.money import to_minor, validate_currency
from ledgerlens.ingest.model import ImportIssue

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = [
    "MAX_ISSUES",
    "Flat",
    "IssueLog",
    "RawAmount",
    "local_name",
    "read_amount",
    "read_date",
]

# A broken generator can repeat one mistake a million times; past this many issues we keep
# counting but stop storing, so that memory stays bounded on any input.
MAX_ISSUES = 500

_AMOUNT_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def local_name(element: _Element) -> str:
    """Tag without its namespace; "" for comments and processing instructions."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag[tag.rfind("}") + 1 :]


class Flat:
    """Every descendant of one element, indexed by its local-name path ("Acct/Id/IBAN").

    Why: an entry is read through ~25 lookups; lxml's ``find`` costs ~2 µs each, while one walk
    over the entry's ~30 elements and dictionary lookups cost a third of that. Paths in
    ``skip`` (e.g. "NtryDtls/TxDtls", read one by one) are neither indexed nor descended.
    """

    __slots__ = ("_paths", "element")

    def __init__(self, element: _Element, skip: frozenset[str] = frozenset()) -> None:
        self.element = element
        self._paths: dict[str, list[_Element]] = {}
        self._walk(element, "", skip)

    def _walk(self, element: _Element, prefix: str, skip: frozenset[str]) -> None:
        paths = self._paths
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            path = prefix + tag[tag.rfind("}") + 1 :]
            if path in skip:
                continue
            found = paths.get(path)
            if found is None:
                paths[path] = [child]
            else:
                found.append(child)
            if len(child):
                self._walk(child, path + "/", skip)

    def first(self, path: str) -> _Element | None:
        found = self._paths.get(path)
        return found[0] if found else None

    def all(self, path: str) -> list[_Element]:
        return self._paths.get(path, [])

    def text(self, path: str) -> str:
        """Stripped text at ``path``; "" when the element is absent or empty."""
        found = self._paths.get(path)
        text: str | None = found[0].text if found else None
        return text.strip() if text else ""


@dataclass(slots=True)
class IssueLog:
    """Collects issues for one file into the caller's list, bounded by ``MAX_ISSUES``.

    Parsers never raise on bad input; they report here. Beyond the cap, issues are counted (and
    a fatal one still refuses the file) but not stored.
    """

    path: str
    sink: list[ImportIssue]
    dropped: int = 0
    dropped_fatal: bool = False
    fatal_seen: bool = False
    _closed: bool = field(default=False, repr=False)

    def add(
        self,
        message: str,
        *,
        line: int | None = None,
        element: str = "",
        field: str = "",
        fatal: bool = True,
    ) -> None:
        self.fatal_seen = self.fatal_seen or fatal
        if len(self.sink) >= MAX_ISSUES:
            self.dropped += 1
            self.dropped_fatal = self.dropped_fatal or fatal
            return
        self.sink.append(ImportIssue(self.path, message, line, element, field, fatal))

    def close(self) -> None:
        """Add one summary issue for whatever was dropped over the cap."""
        if self._closed or not self.dropped:
            return
        self._closed = True
        self.sink.append(
            ImportIssue(
                self.path,
                f"{self.dropped} further issues not listed",
                fatal=self.dropped_fatal,
            )
        )


@dataclass(frozen=True, slots=True)
class RawAmount:
    """An ``Amt`` as printed: exact decimal, its currency attribute, where it was."""

    value: Decimal
    currency: str
    line: int | None
    locator: str

    def minor(self, currency: str, log: IssueLog, *, fatal: bool = True) -> int | None:
        """Minor units in ``currency``; None (and an issue) on sub-minor precision.

        ``18.150`` EUR is exact (1815); ``10.505`` EUR is refused, never rounded.
        """
        try:
            return to_minor(self.value, currency)
        except (AmountError, CurrencyError) as exc:
            log.add(str(exc), line=self.line, element=self.locator, field="Amt", fatal=fatal)
            return None


def read_amount(
    flat: Flat | None, path: str, locator: str, log: IssueLog, *, fatal: bool = True
) -> RawAmount | None:
    """Read the amount at ``path`` (an ``Amt`` with a ``Ccy`` attribute).

    Returns None silently when the element is absent (callers decide whether that matters) and
    with an issue when it is present but not an amount or has an unknown currency.
    """
    found = flat.first(path) if flat is not None else None
    if found is None:
        return None
    where = f"{locator}/{path}" if locator else path
    text = (found.text or "").strip()
    if not _AMOUNT_RE.match(text):
        log.add(
            f"not an amount: {text!r}",
            line=found.sourceline,
            element=where,
            field="Amt",
            fatal=fatal,
        )
        return None
    currency = (found.get("Ccy") or "").strip().upper()
    if currency:
        try:
            validate_currency(currency)
        except CurrencyError as exc:
            log.add(str(exc), line=found.sourceline, element=where, field="Ccy", fatal=fatal)
            return None
    value = Decimal(text)
    if value < 0:
        log.add(
            f"negative amount {text}: ISO 20022 amounts are unsigned; sign kept",
            line=found.sourceline,
            element=where,
            field="Amt",
            fatal=False,
        )
    return RawAmount(value, currency, found.sourceline, where)


def read_date(
    flat: Flat | None,
    path: str,
    locator: str = "",
    log: IssueLog | None = None,
) -> date | None:
    """Date from an ISO 20022 date choice at ``path``: its ``Dt`` or the date part of ``DtTm``.

    The date part is taken as printed (the bank's local day), not converted to UTC, because
    that is the day the bank booked it. Also accepts a plain date or datetime element at
    ``path`` (``FrDtTm``). An element that is present but unreadable is reported (non-fatal:
    callers fall back to another date) and read as absent.
    """
    if flat is None:
        return None
    found = flat.first(path)
    if found is None:
        return None
    for candidate in (flat.first(path + "/Dt"), flat.first(path + "/DtTm"), found):
        if candidate is None or candidate.text is None or not candidate.text.strip():
            continue
        text = candidate.text.strip()
        match = _DATE_RE.match(text)
        try:
            if match:
                return date.fromisoformat(match.group(1))
        except ValueError:
            pass
        if log is not None:
            where = f"{locator}/{path}" if locator else path
            log.add(
                f"not a date: {text!r}",
                line=candidate.sourceline,
                element=where,
                field=path.rpartition("/")[2],
                fatal=False,
            )
        return None
    return None
