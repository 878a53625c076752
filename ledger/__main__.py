"""``python -m ledger``: the command line."""

from ledger.entrypoints.cli import run

run()
