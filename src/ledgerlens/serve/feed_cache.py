"""A per-process cache of the insights feed, checked against the database's change counter.

The feed (GET ``…/insights``) is the app's most frequent read and changes only when something is
written: a refresh stores insights, an owner dismisses one, consent changes. Rebuilding it per
request (a read transaction in the thread pool, rows to objects, pydantic, sha256 for the ETag)
costs a few milliseconds; serving the bytes built last time costs microseconds.

Stale-safe across processes: every lookup first reads the database's change counter
(``adapters.db.engine.sqlite_change_counter``: SQLite's ``PRAGMA data_version`` on a connection
of its own, which changes whenever *any* other connection, in this process or another, commits).
A cached page is served only while the counter still shows the value read *before* the page's
rows were loaded, so a write that lands while a page is being built makes it miss next time,
never serve stale. The counter is global (any commit invalidates every business's pages), which
is coarse but exact. Where no such counter exists (PostgreSQL, in-memory SQLite) the cache is
off and every request reads the database: correctness first, the scope is documented in
docs/app.md.

Bounded: at most ``max_businesses`` businesses, least recently used forgotten first; each keeps
the pages asked for since the last change (status × cursor × limit).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["CachedPage", "FeedCache"]


@dataclass(frozen=True, slots=True)
class CachedPage:
    """One answer of the feed as sent: the JSON bytes and their ETag."""

    body: bytes
    etag: str


@dataclass(slots=True)
class _Entry:
    version: int
    pages: dict[tuple[str, int, int], CachedPage] = field(default_factory=dict)


class FeedCache:
    """Pages of the insights feed per business, valid while the change counter stands still."""

    def __init__(self, version: Callable[[], int] | None, max_businesses: int = 1024) -> None:
        self._version = version
        self._max = max_businesses
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._version is not None

    def version(self) -> int | None:
        """The counter now (read it *before* loading rows to cache); None when disabled."""
        return self._version() if self._version is not None else None

    def get(self, business_id: str, page: tuple[str, int, int]) -> CachedPage | None:
        """The cached page if nothing was committed since it was built."""
        if self._version is None:
            return None
        entry = self._entries.get(business_id)
        if entry is None:
            return None
        if entry.version != self._version():
            del self._entries[business_id]
            return None
        self._entries.move_to_end(business_id)
        return entry.pages.get(page)

    def put(
        self, business_id: str, version: int | None, page: tuple[str, int, int], built: CachedPage
    ) -> None:
        """Keep ``built``, made from rows read after the counter showed ``version``."""
        if version is None or self._version is None:
            return
        entry = self._entries.get(business_id)
        if entry is None or entry.version != version:
            if entry is not None and entry.version > version:
                return  # a newer build is already here; this one may be older than it
            entry = self._entries[business_id] = _Entry(version)
        entry.pages[page] = built
        self._entries.move_to_end(business_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
