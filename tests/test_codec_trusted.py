"""Reading back what the ledger wrote, without re-checking it, gives the same facts.

The store and the checkpoints are read with ``codec.structure_stored`` and
``codec.stored_terms``, which only convert; these laws hold them to the strict path
(``structure_fact``, ``structure_terms``) on every kind of event and clause.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import any_event, histories, terms
from test_properties import facts_of

from ledger.domain.clauses import AddClause, ClauseKind
from ledger.domain.codec import stored_terms, structure_terms, unstructure_terms
from ledger.domain.events import (
    AgreementOpened,
    Amendment,
    structure_fact,
    structure_stored,
    unstructure_fact,
)
from ledger.domain.rules import amended_terms
from ledger.errors import InvalidField


@settings(max_examples=300, deadline=None)
@given(any_event())
def test_a_stored_event_reads_back_as_the_strict_path_reads_it(raw: dict[str, Any]) -> None:
    """Every kind of event (corrections with every kind of replacement included)."""
    fact = structure_fact(raw)
    assert structure_stored(unstructure_fact(fact)) == fact


@settings(max_examples=100, deadline=None)
@given(histories(max_events=12))
def test_stored_terms_read_back_as_written(document: dict[str, Any]) -> None:
    """Every clause added, in an opening or an amendment, of every kind."""
    for fact in facts_of(document):
        changes = fact.clauses if isinstance(fact, AgreementOpened) else ()
        changes += fact.changes if isinstance(fact, Amendment) else ()
        for add in (c for c in changes if isinstance(c, AddClause)):
            assert stored_terms(add.kind, unstructure_terms(add.terms)) == add.terms


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_amending_reads_only_the_changed_terms_and_gives_the_whole_reread(
    data: st.DataObject,
) -> None:
    """``amended_terms`` reads the changed terms alone (in their plain form); it must give
    what restructuring every term after the change gives, or the same refusal."""
    kind = data.draw(st.sampled_from(list(ClauseKind)))
    current = structure_terms(kind, data.draw(terms(kind.value)))
    changes = data.draw(
        st.one_of(
            terms(kind.value),
            st.dictionaries(st.sampled_from(["rate", "holder", "over", "bogus"]), st.text()),
        )
    )

    def outcome(amend: Callable[[], Any]) -> Any:
        try:
            return amend()
        except InvalidField as error:
            return str(error)

    whole = outcome(lambda: structure_terms(kind, {**unstructure_terms(current), **changes}))
    amended = outcome(lambda: amended_terms(kind.value, unstructure_terms(current), changes))
    assert (amended if isinstance(amended, str) else stored_terms(kind, amended)) == whole
