"""ISO 20022 bank-to-customer cash management: camt.052 reports, camt.053 statements, camt.054
debit/credit notifications, read as a stream.

Why streaming: a bank's monthly camt.053 for a busy merchant account runs to hundreds of MB. We
walk it with ``lxml.etree.iterparse`` and, as soon as an ``Ntry`` ends, turn it into
transactions and drop its XML (and every earlier sibling); a ``Stmt`` is yielded as soon as it
ends. Memory then grows with the transactions we return, never with the XML.

Why namespace-agnostic: versions 001.01 to 001.13 share the element names we read. We accept any
``urn:iso:std:iso:20022:tech:xsd:camt.05{2,3,4}.001.NN`` namespace (and none at all, with a
warning) and refuse any other namespace or root as a fatal issue.

Safety: DTDs are refused outright (no entity expansion, no network, no huge trees), and an XML
syntax error becomes one fatal issue carrying libxml2's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING, BinaryIO

from ledgerlens.ingest.formats.camt.elements import Flat, IssueLog, local_name, read_date
from ledgerlens.ingest.formats.camt.record import RecordBuilder
from ledgerlens.ingest.model import ImportIssue, ParsedStatement, ParseResult

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = ["MESSAGES", "CamtParser"]

# message element -> (its record element, the camt message number)
MESSAGES: dict[str, tuple[str, str]] = {
    "BkToCstmrAcctRpt": ("Rpt", "052"),
    "BkToCstmrStmt": ("Stmt", "053"),
    "BkToCstmrDbtCdtNtfctn": ("Ntfctn", "054"),
}
_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2})$")
_MAX_VERSION = 13
_VERSION_SUFFIX = re.compile(r"V\d{2}$")
_RECORDS = tuple(record for record, _ in MESSAGES.values())
_EVENT_TAGS = [
    "{*}" + name
    for name in ("Document", "GrpHdr", "Ntry", *MESSAGES, *(f"{m}V01" for m in MESSAGES), *_RECORDS)
]


class CamtParser:
    """Reads camt.052/053/054 into one ``ParsedStatement`` per ``Rpt``/``Stmt``/``Ntfctn``."""

    format = "camt"

    def identify(self, head: bytes, filename: str) -> bool:
        """XML whose first bytes name a CAMT message, or an XML file called ``*camt*``."""
        text = _head_text(head)
        if not text.lstrip().startswith("<"):
            return False
        if "Document" in text and any(name in text for name in MESSAGES):
            return True
        return "camt" in filename.lower()

    def parse(self, data: bytes, path: str) -> ParseResult:
        """Read a whole file held in memory (the stream reader over a ``BytesIO``)."""
        issues: list[ImportIssue] = []
        statements = list(self.iter_parse(BytesIO(data), path, issues))
        return ParseResult(path=path, format=self.format, statements=statements, issues=issues)

    def iter_parse(
        self, stream: BinaryIO, path: str, issues: list[ImportIssue]
    ) -> Iterator[ParsedStatement]:
        """Yield each statement as soon as its element ends; append issues to ``issues``.

        The caller must check ``issues`` for a fatal one once the iterator is exhausted: a
        fatal issue refuses the whole file even if statements were already yielded.
        """
        from lxml import etree

        log = IssueLog(path, issues)
        # Events only for the elements that structure the file: one Python step per entry,
        # not per element (the rest is read from each Ntry subtree when it ends).
        events = etree.iterparse(
            stream,
            events=("start", "end"),
            tag=_EVENT_TAGS,
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        walker = _Walker(log)
        try:
            for event, element in events:
                if event == "start":
                    if not walker.start(element):
                        return
                else:
                    statement = walker.end(element)
                    if statement is not None:
                        yield statement
            walker.close(events.root)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if exc.lineno and exc.lineno > 0 else None
            log.add(f"not well-formed XML: {exc.msg}", line=line, field="xml")
        finally:
            log.close()


class _Walker:
    """Follows iterparse's events for the structural elements and builds the records.

    ``Document`` > message (``BkToCstmrStmt`` …) > ``GrpHdr`` and records > ``Ntry``; an
    element counts only where it belongs (its parent is checked), wherever else it appears.
    """

    def __init__(self, log: IssueLog) -> None:
        self.log = log
        self.root: _Element | None = None
        self.namespace_message = ""
        self.message: _Element | None = None
        self.message_name = ""
        self.record_name = ""
        self.records = 0
        self.group_created: date | None = None
        self.record: _Element | None = None
        self.builder: RecordBuilder | None = None
        self.entries = 0

    def start(self, element: _Element) -> bool:
        """Check the root and the message; False stops reading (a fatal issue was added)."""
        name = _message_name(local_name(element))
        parent = element.getparent()
        if self.root is None:
            return self._check_root(element, parent)
        if self.message is None and parent is self.root and name in MESSAGES:
            return self._check_message(element, name)
        if parent is not None and parent is self.message and name == self.record_name:
            self.records += 1
            self.entries = 0
            self.record = element
            self.builder = RecordBuilder(
                kind=self.record_name,
                index=self.records,
                line=element.sourceline or 1,
                log=self.log,
                group_created=self.group_created,
            )
        return True

    def end(self, element: _Element) -> ParsedStatement | None:
        builder = self.builder
        parent = element.getparent()
        if builder is not None and parent is self.record:
            if local_name(element) != "Ntry":
                return None
            if not builder.header_read and parent is not None:
                builder.read_header(parent)
            self.entries += 1
            builder.add_entry(element, self.entries)
            _drop(element)
            return None
        if builder is not None and element is self.record:
            if not builder.header_read:
                builder.read_header(element)
            statement = builder.finish()
            self.builder = None
            self.record = None
            _drop(element)
            return statement
        if parent is not None and parent is self.message and local_name(element) == "GrpHdr":
            self.group_created = read_date(Flat(element), "CreDtTm")
        return None

    def _check_root(self, element: _Element, parent: _Element | None) -> bool:
        self.root = element
        if parent is not None:
            while parent.getparent() is not None:
                parent = parent.getparent()
            return self._refuse_root(parent)
        docinfo = element.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            self.log.add(
                "XML with a DOCTYPE is refused (no DTDs or entities in bank files)",
                line=element.sourceline,
                element="Document",
                field="DOCTYPE",
            )
            return False
        if local_name(element) != "Document":
            return self._refuse_root(element)
        tag = element.tag
        namespace = tag[1 : tag.index("}")] if tag.startswith("{") else ""
        if not namespace:
            self.log.add(
                "Document has no namespace: read as CAMT by its element names",
                line=element.sourceline,
                element="Document",
                field="xmlns",
                fatal=False,
            )
            return True
        match = _NAMESPACE.match(namespace)
        if match is None or not 1 <= int(match.group(2)) <= _MAX_VERSION:
            self.log.add(
                f"unsupported namespace {namespace!r} (expected camt.052/053/054.001.01-"
                f"{_MAX_VERSION:02d})",
                line=element.sourceline,
                element="Document",
                field="xmlns",
            )
            return False
        self.namespace_message = match.group(1)
        return True

    def _refuse_root(self, root: _Element) -> bool:
        self.log.add(
            f"root element {local_name(root)!r} is not an ISO 20022 Document",
            line=root.sourceline,
            element=local_name(root),
            field="root",
        )
        return False

    def _check_message(self, element: _Element, name: str) -> bool:
        self.message = element
        self.message_name = name
        self.record_name, number = MESSAGES[name]
        if self.namespace_message and self.namespace_message != number:
            self.log.add(
                f"{name} is camt.{number} but the namespace says camt.{self.namespace_message}",
                line=element.sourceline,
                element=f"Document/{name}",
                field="xmlns",
                fatal=False,
            )
        return True

    def close(self, root: _Element | None) -> None:
        """After the last event: refuse what held no CAMT message or no record."""
        if self.root is None:
            if root is not None:
                self._refuse_root(root)
            return
        if self.message is None:
            names = ", ".join(local_name(c) for c in self.root if local_name(c)) or "nothing"
            self.log.add(
                f"Document holds {names}, not one of {', '.join(MESSAGES)}",
                element="Document",
                field="message",
            )
        elif not self.records:
            self.log.add(
                f"{self.message_name} holds no {self.record_name}",
                element=f"Document/{self.message_name}",
                field=self.record_name,
            )


def _drop(element: _Element) -> None:
    """Free an element we have read, and every earlier sibling (lxml keeps them otherwise)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is None:
        return
    while element.getprevious() is not None:
        del parent[0]


def _message_name(name: str) -> str:
    """Version 001.01 suffixes the message name (``BkToCstmrStmtV01``); later ones do not."""
    return _VERSION_SUFFIX.sub("", name) if name.startswith("BkToCstmr") else name


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8", errors="ignore").lstrip("\ufeff")
