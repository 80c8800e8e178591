"""Candidate streams: the lines that could belong to one recurring series, and what they say.

A stream is (account, direction, counterparty, description shape). The shape is the description
without tokens that carry digits (dates, invoice numbers, mandates) and without the counterparty's
own words, so that "Finanzamt SVWZ+VAT …" and "Finanzamt SVWZ+PAYROLL TAX …" — two series
to one payee — stay apart, while the monthly invoice number does not split a series. Card lines
are keyed by merchant alone: their text carries a city that changes when someone travels.

Two clues tell a committed payment (which may vary in amount, like a VAT bill or a direct debit
for stock) from a merely regular one (a supplier paid by hand every week):
- ``commitment_words``: direct debit, standing order, salary, loan, tax, rent… in five languages;
- ``constant_reference``: the same digit-bearing token (a mandate, a contract number) on most
  lines — how a direct debit looks even where the bank prints no keyword.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from ledgerlens.core.ledger import Transaction

__all__ = [
    "commitment_words",
    "constant_reference",
    "description_shape",
    "normalize_party",
    "party_key",
]

_SPLIT = re.compile(r"[\s/:+#|;,]+")
_DIGIT_TOKEN = re.compile(r"[^\s/:+#|;,]*\d[^\s/:+#|;,]*")
_LEGAL = re.compile(
    r"\b(ltd|limited|llc|llp|inc|corp|co|gmbh|ag|kg|ug|e\.?k|sa|sas|sasu|sarl|eurl|bv|b\.v|nv|"
    r"n\.v|plc|group|holding|& co|zn)\b\.?",
    re.IGNORECASE,
)
# committed kinds of payment, five languages: stems matched inside the lower-cased text, short
# words only as whole tokens ("rent" is not "current", "tax" is not "taxi", "irs" not "first")
_COMMITMENT_STEMS = (
    "lastschrift", "prlv", "incass", "machtiging", "mandat", "mref", "sec:ppd", "direct debit",
    "dauerauftrag", "periodieke", "vir permanent", "standing order", "recurring", "salary",
    "salaire", "salaris", "gehalt", "payroll", "darlehen", "lening", "tilgung", "aflossing",
    "echeance", "échéance", "miete", "loyer", "insurance", "versicherung", "assurance",
    "verzekering", "steuer", "hmrc", "finanzamt", "belastingdienst", "dgfip", "urssaf",
    "subscription", "abonnement", "membership", "beitrag", "contrib",
)  # fmt: skip
_COMMITMENT_WORDS = frozenset(
    "dd so rent huur tax vat tva irs loan lohn wage wages pret prêt abo".split()  # noqa: SIM905
)
_TOKEN = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=8192)
def normalize_party(name: str) -> str:
    """A grouping key for a counterparty name: case, accents, legal forms and digits folded."""
    if not name:
        return ""
    s = unicodedata.normalize("NFKD", name)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = _LEGAL.sub(" ", s)
    s = re.sub(r"[^a-z ]+", " ", s)
    return " ".join(s.split())


_NO_DIGITS = str.maketrans("", "", "0123456789")


def description_shape(description: str, party: str = "") -> str:
    """The description's words that neither carry digits nor repeat the counterparty name."""
    own = party.split()
    words = [
        w
        for w in description.lower().split()
        if len(w.translate(_NO_DIGITS)) == len(w) and w not in own
    ]
    return " ".join(words[:8])


def party_key(tx: Transaction) -> tuple[str, int, str, str]:
    """(account, sign, counterparty, counterparty IBAN) of one line; the description's shape
    stands in for the name when there is none. Two payees who share a name (two employees
    called Noah Robinson) are told apart by their IBANs."""
    sign = 1 if tx.amount_minor > 0 else -1
    party = normalize_party(tx.counterparty_name) if tx.counterparty_name else ""
    iban = tx.counterparty_iban.replace(" ", "").upper() if tx.counterparty_iban else ""
    return tx.account_id, sign, party or description_shape(tx.description), iban


def _sample(descriptions: Sequence[str], k: int) -> Sequence[str]:
    """At most ``k`` lines spread over the series: a majority vote needs no more."""
    n = len(descriptions)
    if n <= k:
        return descriptions
    return [descriptions[i * (n - 1) // (k - 1)] for i in range(k)]


def _committed(text: str) -> bool:
    low = text.lower()
    if any(stem in low for stem in _COMMITMENT_STEMS):
        return True
    return not _COMMITMENT_WORDS.isdisjoint(_TOKEN.findall(low))


def commitment_words(descriptions: Sequence[str]) -> bool:
    """Do most lines name a committed kind of payment (direct debit, salary, tax, loan…)?"""
    sample = _sample(descriptions, 5)
    hits = sum(1 for d in sample if _committed(d))
    return hits * 2 > len(sample)


_YEAR = re.compile(r"(19|20)\d\d")


def _is_reference(token: str) -> bool:
    """Mandates and contract numbers are long; "2025", "01" or a time "09:00" repeat by chance."""
    return len(token) >= 5 and not _YEAR.fullmatch(token)


def constant_reference(descriptions: Sequence[str], share: float = 0.8) -> str:
    """A digit-bearing token (mandate, contract number) found on ``share`` of the lines, or ""."""
    sample = _sample(descriptions, 10)
    counts: Counter[str] = Counter()
    for d in sample:
        counts.update({t for t in _DIGIT_TOKEN.findall(d) if _is_reference(t)})
    if not counts:
        return ""
    token, n = counts.most_common(1)[0]
    return token if n >= share * len(sample) else ""
