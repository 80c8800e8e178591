"""The money-flow simulation, one module per family of flows (income, spending, cards, payroll,
taxes, banking); ``business.generate_business`` runs them in order over a shared ``Ctx``."""
