"""Business archetypes, as data: how each kind of SME earns, spends and breathes over a year.

Amounts are monthly, in EUR at 2026 prices; ``Culture.price_factor`` scales them per country.
Shares are of monthly revenue. ``expected_mix`` documents (and the tests check) the share of a
category group in the business's total inflows (``income.*``) or outflows (everything else) over
the history; docs/synthetic-world.md prints the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ARCHETYPES", "Archetype"]

_FLAT = (1.0,) * 12


@dataclass(frozen=True, slots=True)
class Archetype:
    code: str
    label: str
    revenue_eur: tuple[int, int]  # monthly revenue range (log-uniform draw)
    season: tuple[float, ...] = _FLAT  # Jan..Dec multipliers
    weekday: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 0.7)  # Mon..Sun (card takings)
    card_takings: float = 0.0  # share of revenue settled daily by the card acquirer
    cash_takings: float = 0.0  # share deposited as cash weekly
    invoices: float = 0.0  # share invoiced to B2B customers
    marketplace: float = 0.0  # share paid out by marketplaces / delivery platforms
    invoice_style: str = "retainer"  # retainer | project | orders
    customers: tuple[int, int] = (0, 0)
    terms: tuple[int, ...] = (30,)
    foreign_sales: bool = False  # sells in USD/EUR/GBP beside the base currency
    cogs: float = 0.0  # inventory and materials paid to suppliers
    subcontractors: float = 0.0
    shipping: float = 0.0
    staff: tuple[int, int] = (1, 3)
    salary_eur: tuple[int, int] = (1800, 3200)  # monthly net pay per employee
    rent_share: float = 0.08
    marketing: float = 0.02
    card_uses: dict[str, float] = field(default_factory=dict)  # spend group -> lines a month
    card_scale: dict[str, float] = field(default_factory=dict)  # spend group -> amount factor
    saas: tuple[int, int] = (2, 5)
    vat_exempt: bool = False  # medical care is VAT-exempt in Europe
    sales_tax_us: bool = True  # US sales tax applies to goods and meals, not services
    credit_card_p: float = 0.5
    savings_p: float = 0.4
    loan_p: float = 0.3
    expected_mix: dict[str, tuple[float, float]] = field(default_factory=dict)


ARCHETYPES: dict[str, Archetype] = {
    a.code: a
    for a in (
        Archetype(
            "cafe",
            "Café / restaurant",
            (22_000, 90_000),
            season=(0.85, 0.85, 0.95, 1.0, 1.05, 1.1, 1.15, 1.15, 1.05, 1.0, 0.9, 1.0),
            weekday=(0.8, 0.85, 0.9, 0.95, 1.15, 1.4, 1.0),
            card_takings=0.8,
            cash_takings=0.12,
            marketplace=0.08,
            cogs=0.30,
            staff=(4, 12),
            salary_eur=(1500, 2400),
            rent_share=0.09,
            card_uses={"groceries": 30, "meals": 1, "office": 2, "hardware": 2, "fuel": 2},
            credit_card_p=0.4,
            savings_p=0.25,
            expected_mix={"income.sales": (0.75, 1.0), "opex.payroll": (0.12, 0.55)},
        ),
        Archetype(
            "retail",
            "Retail shop",
            (25_000, 120_000),
            season=(0.8, 0.75, 0.9, 0.95, 1.0, 0.95, 0.95, 0.95, 0.95, 1.0, 1.2, 1.6),
            weekday=(0.8, 0.85, 0.9, 0.95, 1.1, 1.6, 0.5),
            card_takings=0.78,
            cash_takings=0.12,
            marketplace=0.10,
            cogs=0.52,
            shipping=0.01,
            staff=(2, 8),
            salary_eur=(1500, 2300),
            rent_share=0.08,
            card_uses={"groceries": 4, "office": 6, "postage": 6, "fuel": 3, "hardware": 2},
            expected_mix={"income.sales": (0.7, 1.0), "cogs": (0.3, 0.8)},
        ),
        Archetype(
            "ecommerce_exporter",
            "E-commerce exporter",
            (30_000, 160_000),
            season=(0.85, 0.8, 0.9, 0.95, 0.95, 0.9, 0.9, 0.95, 1.0, 1.05, 1.35, 1.4),
            marketplace=0.75,
            invoices=0.25,
            invoice_style="orders",
            customers=(3, 8),
            terms=(14, 30),
            foreign_sales=True,
            cogs=0.45,
            shipping=0.08,
            staff=(1, 5),
            rent_share=0.03,
            marketing=0.08,
            card_uses={"postage": 30, "office": 4, "ads": 8, "electronics": 0.5},
            saas=(4, 8),
            savings_p=0.3,
            expected_mix={"income.marketplace_payout": (0.4, 1.0), "cogs": (0.3, 0.8)},
        ),
        Archetype(
            "it_consultancy",
            "IT consultancy",
            (15_000, 90_000),
            season=(0.95, 1.0, 1.05, 1.0, 1.0, 1.0, 0.9, 0.8, 1.05, 1.1, 1.1, 1.05),
            invoices=1.0,
            invoice_style="retainer",
            customers=(2, 7),
            terms=(14, 30, 60),
            subcontractors=0.18,
            staff=(1, 7),
            salary_eur=(3200, 6000),
            rent_share=0.04,
            card_uses={
                "meals": 4,
                "transport": 5,
                "hotel": 1.5,
                "electronics": 0.6,
                "training": 0.5,
            },
            saas=(4, 9),
            sales_tax_us=False,
            credit_card_p=0.6,
            savings_p=0.6,
            loan_p=0.1,
            expected_mix={"income.sales": (0.8, 1.0), "opex.payroll": (0.08, 0.8)},
        ),
        Archetype(
            "construction",
            "Construction contractor",
            (40_000, 200_000),
            season=(0.6, 0.65, 0.9, 1.05, 1.15, 1.2, 1.2, 1.15, 1.1, 1.0, 0.85, 0.6),
            invoices=1.0,
            invoice_style="project",
            customers=(3, 10),
            terms=(30, 60),
            cogs=0.35,
            subcontractors=0.2,
            staff=(3, 12),
            salary_eur=(2200, 3400),
            rent_share=0.02,
            marketing=0.005,
            card_uses={"hardware": 14, "fuel": 10, "meals": 3, "vehicle_repair": 0.6},
            loan_p=0.5,
            sales_tax_us=False,
            expected_mix={"cogs": (0.12, 0.75), "opex.payroll": (0.05, 0.5)},
        ),
        Archetype(
            "tourism",
            "Seasonal tourism",
            (20_000, 100_000),
            season=(0.2, 0.25, 0.45, 0.8, 1.3, 1.8, 2.3, 2.3, 1.5, 0.7, 0.25, 0.2),
            weekday=(0.9, 0.9, 0.9, 1.0, 1.1, 1.2, 1.1),
            card_takings=0.55,
            marketplace=0.35,
            cash_takings=0.1,
            cogs=0.18,
            staff=(2, 10),
            salary_eur=(1500, 2400),
            rent_share=0.10,
            marketing=0.05,
            card_uses={"groceries": 8, "fuel": 3, "hardware": 2, "ads": 2, "office": 2},
            loan_p=0.45,
            expected_mix={"income.sales": (0.4, 1.0), "income.marketplace_payout": (0.1, 0.6)},
        ),
        Archetype(
            "wholesale",
            "Wholesale distributor",
            (60_000, 300_000),
            season=(0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 1.0, 1.05, 1.15, 1.15),
            invoices=1.0,
            invoice_style="orders",
            customers=(12, 30),
            terms=(30, 60),
            cogs=0.72,
            shipping=0.04,
            staff=(3, 10),
            salary_eur=(2000, 3200),
            rent_share=0.03,
            marketing=0.005,
            card_uses={"fuel": 8, "office": 3, "meals": 2, "vehicle_repair": 0.5},
            loan_p=0.45,
            expected_mix={"cogs": (0.45, 0.95), "income.sales": (0.85, 1.0)},
        ),
        Archetype(
            "marketing_agency",
            "Marketing agency",
            (20_000, 110_000),
            season=(0.9, 0.95, 1.05, 1.0, 1.0, 1.0, 0.85, 0.8, 1.05, 1.1, 1.15, 1.05),
            invoices=1.0,
            invoice_style="retainer",
            customers=(3, 12),
            terms=(14, 30, 60),
            subcontractors=0.15,
            staff=(2, 10),
            salary_eur=(2400, 4200),
            rent_share=0.06,
            marketing=0.12,  # ad spend bought for clients
            card_uses={"ads": 10, "meals": 5, "transport": 3, "office": 2, "electronics": 0.4},
            saas=(5, 10),
            sales_tax_us=False,
            expected_mix={"opex.payroll": (0.15, 0.75), "opex.marketing_advertising": (0.03, 0.4)},
        ),
        Archetype(
            "medical",
            "Medical / dental practice",
            (30_000, 140_000),
            season=(1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.8, 1.0, 1.05, 1.05, 0.95),
            weekday=(1.1, 1.1, 1.1, 1.1, 1.0, 0.3, 0.0),
            card_takings=0.35,
            invoices=0.65,  # insurers and health funds
            invoice_style="retainer",
            customers=(2, 5),
            terms=(14, 30),
            cogs=0.1,
            staff=(3, 10),
            salary_eur=(2200, 4000),
            rent_share=0.07,
            marketing=0.01,
            card_uses={"medical": 6, "office": 3, "meals": 1},
            vat_exempt=True,
            sales_tax_us=False,
            loan_p=0.4,
            expected_mix={"opex.payroll": (0.2, 0.75), "income.sales": (0.85, 1.0)},
        ),
        Archetype(
            "logistics",
            "Logistics operator",
            (50_000, 220_000),
            season=(0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.15),
            invoices=1.0,
            invoice_style="orders",
            customers=(4, 15),
            terms=(30, 60),
            subcontractors=0.18,
            shipping=0.06,
            staff=(4, 14),
            salary_eur=(2100, 3000),
            rent_share=0.04,
            marketing=0.005,
            card_uses={"fuel": 40, "vehicle_repair": 1.5, "meals": 4, "hotel": 1},
            card_scale={"fuel": 5.0, "vehicle_repair": 2.0},  # trucks, not cars
            sales_tax_us=False,
            loan_p=0.6,
            expected_mix={"opex.vehicle_fuel": (0.04, 0.5), "opex.payroll": (0.1, 0.6)},
        ),
    )
}
