"""ISO 20022 CAMT (camt.052 / camt.053 / camt.054) statement parser.

``CamtParser`` is the ``StatementParser`` to register (``format = "camt"``); its ``iter_parse``
reads large files as a stream.
"""

from ledgerlens.ingest.formats.camt.parser import CamtParser

__all__ = ["CamtParser"]
