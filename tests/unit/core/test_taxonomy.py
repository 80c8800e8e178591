from ledgerlens.core.taxonomy import load_taxonomy

DESIGN_LEAVES = {
    "income": {
        "sales",
        "marketplace_payout",
        "refund_received",
        "interest",
        "grant_subsidy",
        "other",
    },
    "cogs": {
        "inventory_materials",
        "subcontractors",
        "shipping_logistics",
        "payment_processing_fees",
    },
    "opex": {
        "payroll",
        "payroll_taxes_benefits",
        "rent_lease",
        "utilities",
        "telecom_internet",
        "software_subscriptions",
        "marketing_advertising",
        "professional_services",
        "insurance",
        "office_supplies",
        "equipment",
        "vehicle_fuel",
        "travel",
        "meals_entertainment",
        "repairs_maintenance",
        "training_education",
        "bank_fees",
        "other",
    },
    "tax": {"vat", "corporate_income", "other"},
    "financing": {"loan_proceeds", "loan_repayment", "owner_contribution", "owner_drawings"},
    "transfer": {"internal", "fx_conversion", "card_settlement", "cash"},
}


def test_taxonomy_matches_design_exactly() -> None:
    tax = load_taxonomy()
    expected = {f"{g}.{leaf}" for g, leaves in DESIGN_LEAVES.items() for leaf in leaves}
    assert set(tax.codes) == expected
    assert len(tax) == 39


def test_every_leaf_has_pl_cashflow_and_plaid_lines() -> None:
    tax = load_taxonomy()
    for code in tax.codes:
        c = tax[code]
        assert c.label and c.pl_line and c.cashflow_line
        assert c.plaid_detailed.startswith(c.plaid_primary)
    assert {c.cashflow_line for c in tax.in_group("transfer")} == {"none"}
    assert tax["financing.loan_repayment"].cashflow_line == "financing"
