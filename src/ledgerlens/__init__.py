"""LedgerLens: an AI personalization engine for SME mobile banking."""

__version__ = "0.1.0"
