"""``python -m ledgerlens.jobs`` runs the CLI (same as the ``ledgerlens`` script)."""

from ledgerlens.jobs.cli import main

main()
