"""Zip files holding several statements (banks bundle daily CAMT files this way).

Each member is detected and parsed on its own; issues name ``archive.zip!member``. Sizes are
bounded so a zip bomb is refused instead of exhausting memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from ledgerlens.ingest.model import ImportIssue, ParseResult, StatementParser

__all__ = ["ZipArchiveParser"]

MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024


class ZipArchiveParser:
    format = "zip"

    def __init__(self, inner: Sequence[StatementParser]) -> None:
        self._inner = list(inner)

    def identify(self, head: bytes, filename: str) -> bool:
        return head.startswith(b"PK\x03\x04")

    def parse(self, data: bytes, path: str) -> ParseResult:
        from ledgerlens.ingest.detect import HEAD_BYTES, detect_parser

        result = ParseResult(path=path, format=self.format)
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = [m for m in archive.infolist() if not m.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            result.issues.append(ImportIssue(path, f"not a readable zip file: {exc}"))
            return result
        if not members:
            result.issues.append(ImportIssue(path, "the zip file holds no statements"))
            return result
        if len(members) > MAX_MEMBERS:
            result.issues.append(ImportIssue(path, f"more than {MAX_MEMBERS} files in the zip"))
            return result
        total = sum(m.file_size for m in members)
        if total > MAX_TOTAL_BYTES or any(m.file_size > MAX_MEMBER_BYTES for m in members):
            result.issues.append(ImportIssue(path, "zip content too large (possible zip bomb)"))
            return result
        formats: list[str] = []
        for member in sorted(members, key=lambda m: m.filename):
            where = f"{path}!{member.filename}"
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as exc:
                result.issues.append(ImportIssue(where, f"cannot read zip member: {exc}"))
                continue
            parser = detect_parser(content[:HEAD_BYTES], member.filename, self._inner)
            if parser is None:
                result.issues.append(ImportIssue(where, "unrecognised statement format"))
                continue
            inner = parser.parse(content, where)
            formats.append(inner.format)
            result.statements.extend(inner.statements)
            result.issues.extend(inner.issues)
        if formats:
            result.format = "zip:" + "+".join(sorted(set(formats)))
        return result
