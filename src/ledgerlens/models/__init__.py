"""Shipped default models: ``<name>/<version>/`` with the artifact and manifest.json (data only).

Written by ``ledgerlens train <name> --store src/ledgerlens/models``; read through
``ledgerlens.adapters.model_store``. Nothing here is imported as code.
"""
