"""decide: limits, offers, recommendations and FX tips under decision tables kept as data.

``rules`` (zen-engine over ``rules/*.json``), ``signals`` (what the business really earns and
holds), ``limits``, ``offers``, ``recommend`` (+ ``data/catalog.json``), ``fx_tips``,
``risk_proxy`` (stand-in when no risk model is configured), ``audit_chain`` (the hash chain),
``service`` (all of one business's decisions), ``card_policies`` (employee cards, issue 6).
Nothing is imported here, so importing one module stays cheap. See docs/decisions.md.
"""
