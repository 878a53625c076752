"""The vocabulary: one module per kind of event, each holding the event's shape (a frozen
attrs class with its permanent ``TYPE`` and ``TOPIC``), how it folds into the state with
the rules it must obey, and the line that tells people what it records.

``ledger.domain.events`` is the registry that lists them; adding a kind of event is a
module here and a line there (see ``docs/architecture.md``).
"""
