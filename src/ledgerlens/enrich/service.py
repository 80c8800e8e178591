"""Enrichment of one business as annotations: categories, transfer pairs, recurring series.

Pure orchestration of the enrich kernels over ONE business's accounts and transactions:

1. ``match_transfers`` pairs the legs of own-account moves; both legs get the category the
   pair implies (``transfer.internal`` / ``fx_conversion`` / ``card_settlement``, source
   ``rule:transfers@…``) and a ``transfer`` annotation whose value is the pair id;
2. ``detect_recurring`` (told about the pairs, so a savings sweep is not also an income series)
   gives each member line a ``recurring`` annotation: series id, next date, amount band;
3. the ``Categorizer`` (the business's corrections first, then rules, then the model) gives every
   other line its ``category`` annotation — category "" with its confidence when it abstains.

A transfer pair overrides the categorizer, except on a line the owner corrected by hand: the
owner's word on that very line stands. Storage is the caller's (``pipeline.EnrichBusiness``);
the result is deterministic for the same input (``as_of`` defaults to the last booking date,
not today), so a re-run upserts the same rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from ledgerlens.core.ledger import Account, Annotation, AnnotationKind, Transaction, utc_now
from ledgerlens.core.money import format_minor
from ledgerlens.enrich.categorize.service import CategorizationResult, Categorizer
from ledgerlens.enrich.corrections import Correction, CorrectionMemory
from ledgerlens.enrich.recurring import RecurringSeries, detect_recurring
from ledgerlens.enrich.transfers import FxRates, TransferMatch, match_transfers

__all__ = [
    "annotate_business",
    "annotate_new",
    "pair_id",
    "trade_profile",
]


def pair_id(match: TransferMatch) -> str:
    """A stable id for a transfer pair (the same two legs always give the same id)."""
    digest = hashlib.sha256("|".join(match.leg_ids).encode()).hexdigest()
    return f"tp_{digest[:12]}"


def trade_profile(transactions: Sequence[Transaction]) -> tuple[str, ...]:
    """The business's trade words, as the categorizer's features use them (stored so that a
    handful of new lines is scored with the whole history's profile)."""
    from ledgerlens.enrich.categorize.features import business_profiles

    profiles = business_profiles(transactions)
    return next(iter(profiles.values()), ()) if profiles else ()


def _business_of(transactions: Sequence[Transaction]) -> str:
    ids = {t.business_id for t in transactions}
    if len(ids) != 1:
        raise ValueError(f"enrichment runs on ONE business's lines, got {len(ids)} businesses")
    return ids.pop()


def _transfer_annotations(
    matches: Iterable[TransferMatch], business_id: str, now: datetime
) -> dict[str, tuple[Annotation, Annotation]]:
    """Per leg id: (category annotation, transfer annotation)."""
    out: dict[str, tuple[Annotation, Annotation]] = {}
    for m in matches:
        pid = pair_id(m)
        for leg, other in ((m.out_transaction_id, m.in_transaction_id),
                           (m.in_transaction_id, m.out_transaction_id)):  # fmt: skip
            evidence: dict[str, str | int | float] = {
                **m.evidence, "pair_id": pid, "other_transaction_id": other,
            }  # fmt: skip
            why = (f"one leg of a move between the business's own accounts ({m.category})",)
            conf = min(max(float(m.confidence), 0.0), 1.0)
            out[leg] = (
                Annotation(leg, business_id, AnnotationKind.CATEGORY, m.category, conf,
                           m.source, why, evidence, now),
                Annotation(leg, business_id, AnnotationKind.TRANSFER, pid, conf, m.source,
                           why, {**evidence, "category": m.category}, now),
            )  # fmt: skip
    return out


def _recurring_annotations(
    series: Iterable[RecurringSeries], business_id: str, now: datetime
) -> list[Annotation]:
    out: list[Annotation] = []
    for s in series:
        band = (f"{format_minor(s.amount_low_minor, s.currency)} to "
                f"{format_minor(s.amount_high_minor, s.currency)} {s.currency}")  # fmt: skip
        why = (f"repeats {s.cadence.value} ({len(s.member_ids)} payments); next expected "
               f"{s.next_date.isoformat()} for {band}",)  # fmt: skip
        evidence: dict[str, str | int | float] = {
            "cadence": s.cadence.value,
            "period_days": round(float(s.period_days), 2),
            "direction": s.direction,
            "first_date": s.first_date.isoformat(),
            "last_date": s.last_date.isoformat(),
            "next_date": s.next_date.isoformat(),
            "expected_amount_minor": s.expected_amount_minor,
            "amount_low_minor": s.amount_low_minor,
            "amount_high_minor": s.amount_high_minor,
            "currency": s.currency,
            "active": int(s.active),
            "occurrences": len(s.member_ids),
            "price_changes": len(s.price_changes),
        }
        conf = min(max(float(s.confidence), 0.0), 1.0)
        out.extend(
            Annotation(tid, business_id, AnnotationKind.RECURRING, s.series_id, conf, s.source,
                       why, evidence, now)
            for tid in s.member_ids
        )  # fmt: skip
    return out


def _category_annotation(r: CategorizationResult, business_id: str, now: datetime) -> Annotation:
    evidence: dict[str, str | int | float] = {"confidence": round(float(r.confidence), 4)}
    if r.abstained:
        evidence["abstained"] = 1
    conf = min(max(float(r.confidence), 0.0), 1.0)
    return Annotation(r.transaction_id, business_id, AnnotationKind.CATEGORY, r.category, conf,
                      r.source, tuple(r.reasons), evidence, now)  # fmt: skip


def _categorize(
    categorizer: Categorizer,
    transactions: Sequence[Transaction],
    accounts: Sequence[Account],
    business_id: str,
    corrections: Sequence[Correction],
    iban_secret: bytes,
    profile: Sequence[str] | None,
) -> list[CategorizationResult]:
    memories: Mapping[str, CorrectionMemory] = (
        {business_id: CorrectionMemory(business_id, corrections, iban_secret=iban_secret)}
        if corrections
        else {}
    )
    return categorizer.categorize(
        transactions,
        account_types={a.account_id: str(a.account_type) for a in accounts},
        corrections=memories,
        profiles=None if profile is None else {business_id: tuple(profile)},
    )


def _merge(
    results: Sequence[CategorizationResult],
    transfers: Mapping[str, tuple[Annotation, Annotation]],
    corrections: Sequence[Correction],
    business_id: str,
    now: datetime,
) -> list[Annotation]:
    """Category per line (transfer pair over the categorizer, the owner's own line over both)
    plus the transfer annotations of the legs that keep their pair."""
    hand_corrected = {f"rule:correction:{c.correction_id}": c.transaction_id for c in corrections}
    out: list[Annotation] = []
    for r in results:
        leg = transfers.get(r.transaction_id)
        if leg is None or hand_corrected.get(r.source) == r.transaction_id:
            out.append(_category_annotation(r, business_id, now))
        else:
            out.extend(leg)
    return out


def annotate_business(
    transactions: Sequence[Transaction],
    accounts: Sequence[Account],
    *,
    categorizer: Categorizer,
    iban_secret: bytes,
    corrections: Sequence[Correction] = (),
    fx_rates: FxRates | None = None,
    country: str = "",
    profile: Sequence[str] | None = None,
    as_of: date | None = None,
    now: datetime | None = None,
) -> list[Annotation]:
    """Every annotation of one business's full history (see the module docstring).

    Each transaction gets exactly one ``category`` annotation; legs of a matched pair one
    ``transfer`` annotation; members of a series one ``recurring`` annotation.
    """
    if not transactions:
        return []
    business_id = _business_of(transactions)
    now = now or utc_now()
    matches = match_transfers(transactions, accounts, fx_rates=fx_rates)
    as_of = as_of or max(t.booking_date for t in transactions)
    series = detect_recurring(transactions, as_of=as_of, country=country, transfers=matches)
    results = _categorize(categorizer, transactions, accounts, business_id, corrections,
                          iban_secret, profile)  # fmt: skip
    transfers = _transfer_annotations(matches, business_id, now)
    out = _merge(results, transfers, corrections, business_id, now)
    out.extend(_recurring_annotations(series, business_id, now))
    return out


def annotate_new(
    new: Sequence[Transaction],
    window: Sequence[Transaction],
    accounts: Sequence[Account],
    *,
    categorizer: Categorizer,
    iban_secret: bytes,
    corrections: Sequence[Correction] = (),
    profile: Sequence[str] | None = None,
    paired: Iterable[str] = (),
    fx_rates: FxRates | None = None,
    now: datetime | None = None,
) -> list[Annotation]:
    """Annotations for a handful of freshly ingested lines (the real-time path).

    ``new`` are categorized with the stored ``profile`` and ``corrections``; ``window`` holds the
    business's lines booked around them (the new ones included), where the other leg of a
    transfer would be. A pair is taken only when one leg is new and neither leg is already in a
    stored pair (``paired``), so an earlier full run's pairing is never contradicted. Recurring
    series are left to the next full run (a series needs the history, not a window).
    """
    if not new:
        return []
    business_id = _business_of(new)
    now = now or utc_now()
    new_ids = {t.transaction_id for t in new}
    taken = set(paired)
    matches = [
        m for m in match_transfers(window, accounts, fx_rates=fx_rates)
        if new_ids.intersection(m.leg_ids) and not taken.intersection(m.leg_ids)
    ]  # fmt: skip
    results = _categorize(categorizer, new, accounts, business_id, corrections, iban_secret,
                          profile)  # fmt: skip
    transfers = _transfer_annotations(matches, business_id, now)
    out = _merge(results, transfers, corrections, business_id, now)
    # the old leg of a new pair: its category changes to the transfer's too
    for tid, leg in transfers.items():
        if tid not in new_ids:
            out.extend(leg)
    return out
