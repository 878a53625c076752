"""Unit tests of the pure fold: the agreement's state on a date, as known at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from strategies import (
    AGREEMENT,
    amendment,
    document,
    event,
    investment,
    opening,
    stake,
)

from ledger import DateOutOfRange, InvalidField, RuleViolation
from ledger.adapters.files import parse_document
from ledger.domain import chain
from ledger.domain.clauses import ExclusivityTerms, RevenueShareTerms
from ledger.domain.events import Fact, GovernanceKind, Instrument
from ledger.domain.fold import fold
from ledger.domain.ids import agreement_uuid, event_id
from ledger.domain.state import AgreementState, ProposalStatus, RenegotiationStatus
from ledger.domain.timeline import Log, known, state_at
from ledger.domain.values import DatePrecision, Money, Percent

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

EXCLUSIVITY = {
    "id": "supply-exclusivity",
    "kind": "exclusivity",
    "terms": {"holder": "acme", "grantor": "globex", "scope": "widgets", "exclusive": True},
    "until": "2022-12-31",
}
REVENUE_SHARE = {
    "id": "globex-revenue-share",
    "kind": "revenue_share",
    "terms": {"payer": "globex", "payee": "acme", "rate": "20", "basis": "widget sales"},
}
VETO = {"id": "acme-veto", "kind": "veto", "terms": {"holder": "acme", "over": ["restructuring"]}}
CLAUSES = [EXCLUSIVITY, REVENUE_SHARE, VETO]


def facts(*events: dict[str, Any]) -> tuple[Fact, ...]:
    """The events of a file of ``acme-globex`` holding ``events``."""
    return parse_document(document(list(events))).events


def log(*events: dict[str, Any], at: datetime = T0) -> Log:
    """The agreement opened on 2020-01-01 with ``CLAUSES``, then ``events``, in one append."""
    opened, _ = Log.open(facts(opening(clauses=CLAUSES), *events), at)
    return opened


def later(agreement: Log, *events: dict[str, Any], at: datetime) -> Log:
    """``agreement`` after another append of ``events`` at ``at``."""
    after, _ = agreement.record(facts(*events), at)
    return after


def on(agreement: Log, day: str, known_at: datetime | None = None) -> AgreementState:
    """The state of ``agreement`` on ``day`` as known at ``known_at``."""
    return state_at(AGREEMENT, agreement.records, date.fromisoformat(day), known_at)


def ident(version: int) -> str:
    """The id of the event at ``version``."""
    return event_id(AGREEMENT, version)


class TestClausesInForce:
    """Which clauses are in force on a date, with which terms."""

    def test_opening_clauses_are_in_force_from_the_opening_date(self) -> None:
        """The opening's clauses are in force on the opening date, since that date."""
        state = on(log(), "2020-01-01")
        assert [c.id for c in state.clauses_in_force()] == [
            "acme-veto",
            "globex-revenue-share",
            "supply-exclusivity",
        ]
        assert {c.in_force_since for c in state.clauses_in_force()} == {date(2020, 1, 1)}
        assert state.clause_in_force("supply-exclusivity").terms == ExclusivityTerms(
            holder="acme", grantor="globex", scope="widgets", exclusive=True
        )

    def test_a_date_before_the_opening_is_refused_naming_the_opening_date(self) -> None:
        """There is no state before the agreement opened; the error says when it did."""
        with pytest.raises(DateOutOfRange, match="2020-01-01"):
            on(log(), "2019-12-31")

    def test_an_added_clause_is_in_force_from_its_amendment_date(self) -> None:
        """A clause added by an amendment is absent the day before and in force from that day."""
        agreement = log(
            amendment("2021-03-01", {"add": {"id": "ip", "kind": "ip_rights", "terms": {}}})
        )
        assert on(agreement, "2021-02-28").clause_in_force("ip") is None
        added = on(agreement, "2021-03-01").clause_in_force("ip")
        assert added is not None
        assert added.in_force_since == date(2021, 3, 1)
        assert added.amended_on is None
        assert added.caused_by == (ident(2),)

    def test_an_amendment_changes_only_the_terms_it_names_from_its_date(self) -> None:
        """Amended terms apply from the amendment's date; the others stay; amended_on is set."""
        agreement = log(
            amendment("2021-06-15", {"amend": "globex-revenue-share", "terms": {"rate": "8"}})
        )
        before = on(agreement, "2021-06-14").clause_in_force("globex-revenue-share")
        after = on(agreement, "2021-06-15").clause_in_force("globex-revenue-share")
        assert before.terms.rate == Percent(Decimal(20))
        assert before.amended_on is None
        assert after.terms == RevenueShareTerms(
            payer="globex", payee="acme", rate=Percent(Decimal(8)), basis="widget sales"
        )
        assert after.in_force_since == date(2020, 1, 1)
        assert after.amended_on == date(2021, 6, 15)
        assert after.caused_by == (ident(1), ident(2))

    def test_a_removed_clause_is_in_force_until_the_day_before_its_removal(self) -> None:
        """A removal takes the clause out of force on the removal's date."""
        agreement = log(amendment("2021-01-10", {"remove": "globex-revenue-share"}))
        assert on(agreement, "2021-01-09").clause_in_force("globex-revenue-share") is not None
        assert on(agreement, "2021-01-10").clause_in_force("globex-revenue-share") is None

    def test_a_clause_is_in_force_through_its_until_date_and_not_after(self) -> None:
        """``until`` is the last day in force; the day after it has expired, with no event."""
        agreement = log()
        last_day = on(agreement, "2022-12-31")
        assert last_day.clause_in_force("supply-exclusivity").until == date(2022, 12, 31)
        assert on(agreement, "2023-01-01").clause_in_force("supply-exclusivity") is None
        assert on(agreement, "2023-01-01").events_applied == last_day.events_applied

    def test_an_amended_until_extends_the_clause(self) -> None:
        """Amending ``until`` keeps the clause in force through the new date."""
        agreement = log(
            amendment("2022-06-01", {"amend": "supply-exclusivity", "until": "2024-06-30"})
        )
        assert on(agreement, "2023-01-01").clause_in_force("supply-exclusivity") is not None
        assert on(agreement, "2024-06-30").clause_in_force("supply-exclusivity") is not None
        assert on(agreement, "2024-07-01").clause_in_force("supply-exclusivity") is None

    def test_an_expired_clause_id_can_be_added_again_as_a_new_clause(self) -> None:
        """After expiry the id is free: a new clause with it starts its own in_force_since."""
        agreement = log(
            amendment(
                "2023-02-01",
                {"add": {"id": "supply-exclusivity", "kind": "custom", "terms": {"text": "t"}}},
            )
        )
        again = on(agreement, "2023-02-01").clause_in_force("supply-exclusivity")
        assert again.in_force_since == date(2023, 2, 1)
        assert again.kind.value == "custom"
        assert again.until is None

    def test_clauses_in_force_accepts_another_day(self) -> None:
        """``clauses_in_force(day)`` answers for that day, ``as_of`` by default."""
        state = on(log(), "2022-12-31")
        assert state.as_of == date(2022, 12, 31)
        assert "supply-exclusivity" not in [c.id for c in state.clauses_in_force(date(2023, 1, 1))]
        assert "supply-exclusivity" in [c.id for c in state.clauses_in_force()]


class TestInvestments:
    """Investments are totalled per investor, recipient and currency."""

    def test_totals_are_kept_per_investor_recipient_and_currency(self) -> None:
        """Two USD investments add up; EUR and the reverse direction are separate totals."""
        agreement = log(
            investment("2020-02-01", "100", instrument="equity"),
            investment("2020-03-01", "250.5", instrument="cloud_credits"),
            investment("2020-04-01", "7", currency="EUR"),
            investment("2020-05-01", "3", investor="globex", recipient="acme"),
        )
        totals = on(agreement, "2020-12-31").investments
        assert set(totals) == {
            ("acme", "globex", "USD"),
            ("acme", "globex", "EUR"),
            ("globex", "acme", "USD"),
        }
        usd = totals[("acme", "globex", "USD")]
        assert usd.total == Money(Decimal("350.5"), "USD")
        assert usd.instruments == (Instrument.EQUITY, Instrument.CLOUD_CREDITS)
        assert usd.caused_by == (ident(2), ident(3))
        assert totals[("acme", "globex", "EUR")].total == Money(Decimal(7), "EUR")
        assert totals[("globex", "acme", "USD")].total == Money(Decimal(3), "USD")

    def test_totals_count_only_investments_effective_by_the_date(self) -> None:
        """An investment dated after the replay date is not in the total yet."""
        agreement = log(investment("2020-02-01", "100"), investment("2020-03-01", "50"))
        total = on(agreement, "2020-02-29").investments[("acme", "globex", "USD")].total
        assert total.amount == Decimal(100)
        assert on(agreement, "2020-01-31").investments == {}

    def test_totals_of_amounts_at_the_digit_limits_are_exact(self) -> None:
        """Two amounts within 18 integer and 12 fractional digits add up exactly."""
        agreement = log(
            investment("2020-02-01", "100000000000000000.000000000001"),
            investment("2020-03-01", "0.000000000001"),
        )
        total = on(agreement, "2020-12-31").investments[("acme", "globex", "USD")].total
        assert total.amount == Decimal("100000000000000000.000000000002")


class TestStakes:
    """A holder's stake from the date of its ownership change on."""

    def test_a_later_ownership_change_replaces_the_stake(self) -> None:
        """The stake is the one of the latest change effective by the date."""
        agreement = log(
            stake("2020-02-01", "acme", "globex", "49"),
            stake("2021-02-01", "acme", "globex", "27.5"),
            stake("2021-03-01", "globex", "globex", "72.5"),
        )
        assert on(agreement, "2021-01-31").stakes[("acme", "globex")].percent == Percent(
            Decimal(49)
        )
        later_stake = on(agreement, "2021-02-01").stakes[("acme", "globex")]
        assert later_stake.percent == Percent(Decimal("27.5"))
        assert later_stake.since == date(2021, 2, 1)
        assert later_stake.caused_by == ident(3)
        assert set(on(agreement, "2021-03-01").stakes) == {
            ("acme", "globex"),
            ("globex", "globex"),
        }

    def test_a_zero_percent_change_removes_the_stake(self) -> None:
        """Setting a stake to 0 removes it from the state."""
        agreement = log(
            stake("2020-02-01", "acme", "globex", "49"), stake("2020-06-01", "acme", "globex", "0")
        )
        assert ("acme", "globex") in on(agreement, "2020-05-31").stakes
        assert on(agreement, "2020-06-01").stakes == {}

    def test_an_entity_need_not_be_a_party(self) -> None:
        """The entity whose stake is meant may be any id."""
        agreement = log(stake("2020-02-01", "acme", "globex-labs", "100"))
        assert on(agreement, "2020-02-01").stakes[("acme", "globex-labs")].percent.value == 100


class TestGovernance:
    """The governance record: events in order, with their fields and precision."""

    def test_the_record_lists_events_effective_by_the_date_in_order(self) -> None:
        """Each governance event appears from its date, with its fields."""
        agreement = log(
            event(
                "governance",
                "2023-10-01",
                date_precision="quarter",
                kind="ceo_removed",
                entity="globex",
                people=["Hank Scorpio"],
                description="fired by the board",
            ),
            event(
                "governance",
                "2023-11-20",
                kind="restructuring",
                entity="globex",
                approved_by=["acme"],
            ),
        )
        assert on(agreement, "2023-09-30").governance == ()
        record = on(agreement, "2023-12-31").governance
        assert [g.kind for g in record] == [
            GovernanceKind.CEO_REMOVED,
            GovernanceKind.RESTRUCTURING,
        ]
        first = record[0]
        assert first.id == ident(2)
        assert first.effective_on == date(2023, 10, 1)
        assert first.date_precision is DatePrecision.QUARTER
        assert first.people == ("Hank Scorpio",)
        assert first.description == "fired by the board"
        assert record[1].approved_by == ("acme",)


class TestRenegotiations:
    """A renegotiation's lifecycle: proposals pending, settled, concluded or abandoned."""

    TALKS = (
        event(
            "renegotiation_opened",
            "2021-01-01",
            renegotiation="2021-terms",
            topics=["revenue_share"],
            initiated_by="globex",
        ),
        event(
            "proposal",
            "2021-02-01",
            renegotiation="2021-terms",
            proposal="lower-rate",
            by="globex",
            changes=[{"amend": "globex-revenue-share", "terms": {"rate": "8"}}],
        ),
        event(
            "proposal",
            "2021-02-02",
            renegotiation="2021-terms",
            proposal="drop-share",
            by="globex",
            changes=[{"remove": "globex-revenue-share"}],
        ),
        event(
            "proposal",
            "2021-02-03",
            renegotiation="2021-terms",
            proposal="add-ip",
            by="acme",
            changes=[{"add": {"id": "ip", "kind": "ip_rights", "terms": {"holder": "acme"}}}],
        ),
    )

    @staticmethod
    def statuses(state: AgreementState) -> dict[str, str]:
        """Each proposal's status in the 2021 talks."""
        return {p.id: p.status.value for p in state.renegotiations["2021-terms"].proposals}

    def test_a_proposal_is_pending_and_changes_nothing(self) -> None:
        """While talks are open a proposal is pending and the clause keeps its terms."""
        state = on(log(*self.TALKS), "2021-06-01")
        talks = state.renegotiations["2021-terms"]
        assert talks.status is RenegotiationStatus.OPEN
        assert talks.initiated_by == "globex"
        assert talks.topics == ("revenue_share",)
        assert self.statuses(state) == {
            "lower-rate": "pending",
            "drop-share": "pending",
            "add-ip": "pending",
        }
        assert state.clause_in_force("globex-revenue-share").terms.rate.value == 20

    def test_rejected_and_withdrawn_proposals_are_settled(self) -> None:
        """A rejection and a withdrawal settle their proposals; the talks stay open."""
        agreement = log(
            *self.TALKS,
            event(
                "proposal_rejected", "2021-03-01", renegotiation="2021-terms", proposal="drop-share"
            ),
            event(
                "proposal_withdrawn", "2021-03-02", renegotiation="2021-terms", proposal="add-ip"
            ),
        )
        assert self.statuses(on(agreement, "2021-03-01")) == {
            "lower-rate": "pending",
            "drop-share": "rejected",
            "add-ip": "pending",
        }
        state = on(agreement, "2021-03-02")
        assert self.statuses(state)["add-ip"] == "withdrawn"
        assert state.renegotiations["2021-terms"].status is RenegotiationStatus.OPEN

    def test_a_concluded_renegotiation_applies_the_accepted_changes_on_its_date(self) -> None:
        """The accepted proposal applies on the conclusion date; pending ones are superseded."""
        agreement = log(
            *self.TALKS,
            event("proposal_rejected", "2021-03-01", renegotiation="2021-terms", proposal="add-ip"),
            event(
                "renegotiation_concluded",
                "2021-04-01",
                renegotiation="2021-terms",
                accepted="lower-rate",
            ),
        )
        before = on(agreement, "2021-03-31")
        assert before.clause_in_force("globex-revenue-share").terms.rate.value == 20
        after = on(agreement, "2021-04-01")
        clause = after.clause_in_force("globex-revenue-share")
        assert clause.terms.rate == Percent(Decimal(8))
        assert clause.amended_on == date(2021, 4, 1)
        talks = after.renegotiations["2021-terms"]
        assert talks.status is RenegotiationStatus.CONCLUDED
        assert talks.closed_on == date(2021, 4, 1)
        assert self.statuses(after) == {
            "lower-rate": "accepted",
            "drop-share": "superseded",
            "add-ip": "rejected",
        }

    def test_an_abandoned_renegotiation_changes_no_clause(self) -> None:
        """Abandoned talks supersede their pending proposals and apply none."""
        agreement = log(
            *self.TALKS,
            event(
                "renegotiation_concluded",
                "2021-04-01",
                renegotiation="2021-terms",
                outcome="abandoned",
            ),
        )
        state = on(agreement, "2021-04-01")
        assert state.renegotiations["2021-terms"].status is RenegotiationStatus.ABANDONED
        assert set(self.statuses(state).values()) == {ProposalStatus.SUPERSEDED.value}
        assert state.clause_in_force("globex-revenue-share").terms.rate.value == 20
        assert state.clause_in_force("ip") is None

    def test_a_concluded_renegotiation_takes_no_more_proposals(self) -> None:
        """After the talks conclude, a proposal in them is refused."""
        agreement = log(
            *self.TALKS,
            event(
                "renegotiation_concluded",
                "2021-04-01",
                renegotiation="2021-terms",
                outcome="abandoned",
            ),
        )
        late = event(
            "proposal",
            "2021-05-01",
            renegotiation="2021-terms",
            proposal="late",
            by="acme",
            changes=[{"remove": "acme-veto"}],
        )
        with pytest.raises(RuleViolation, match="expected an open renegotiation") as caught:
            later(agreement, late, at=T0 + HOUR)
        assert caught.value.path == "renegotiation"


class TestCorrectionsAndRetractions:
    """Withdrawals are honoured as of the time they were recorded."""

    def corrected(self) -> Log:
        """An investment of 100 recorded at T0, corrected to 150 an hour later."""
        agreement = log(investment("2020-05-01", "100"))
        correction = {
            "type": "correction",
            "corrects": ident(2),
            "reason": "the figure was wrong",
            "source": {"citation": "Annual report", "confidence": "confirmed"},
            "replacement": investment("2020-05-01", "150"),
        }
        return later(agreement, correction, at=T0 + HOUR)

    def test_a_correction_replaces_the_event_as_known_after_it(self) -> None:
        """Known at T0 the total is 100; known after the correction it is 150."""
        agreement = self.corrected()
        key = ("acme", "globex", "USD")
        assert on(agreement, "2020-12-31", T0).investments[key].total.amount == 100
        after = on(agreement, "2020-12-31", T0 + HOUR)
        assert after.investments[key].total.amount == 150
        assert after.investments[key].caused_by == (ident(3),)
        assert on(agreement, "2020-12-31").investments[key].total.amount == 150

    def test_a_correction_counts_once_in_events_applied(self) -> None:
        """The replacement counts; the withdrawn original and the correction itself do not."""
        agreement = self.corrected()
        assert on(agreement, "2020-12-31", T0).events_applied == 2
        assert on(agreement, "2020-12-31").events_applied == 2

    def test_known_maps_the_withdrawn_event_to_its_correction(self) -> None:
        """The timeline says which event withdrew which, as known at the time."""
        agreement = self.corrected()
        assert known(AGREEMENT, agreement.records).withdrawn_by == {ident(2): ident(3)}
        assert known(AGREEMENT, agreement.records, T0).withdrawn_by == {}

    def test_a_correction_may_move_the_event_to_another_date(self) -> None:
        """A replacement with another date applies on its own date."""
        agreement = log(investment("2020-05-01", "100"))
        correction = {
            "type": "correction",
            "corrects": ident(2),
            "reason": "wrong date",
            "source": {"citation": "Filing", "confidence": "reported"},
            "replacement": investment("2020-09-01", "100"),
        }
        agreement = later(agreement, correction, at=T0 + HOUR)
        assert on(agreement, "2020-06-01").investments == {}
        assert on(agreement, "2020-06-01", T0).investments != {}
        assert (
            on(agreement, "2020-09-01").investments[("acme", "globex", "USD")].total.amount == 100
        )

    def test_a_retraction_removes_the_event_as_known_after_it(self) -> None:
        """Known before the retraction the governance event is there; after, it is not."""
        agreement = log(event("governance", "2020-05-01", kind="other", entity="globex"))
        retraction = {
            "type": "retraction",
            "retracts": ident(2),
            "reason": "never happened",
            "source": {"citation": "Correction notice", "confidence": "confirmed"},
        }
        agreement = later(agreement, retraction, at=T0 + HOUR)
        assert len(on(agreement, "2020-06-01", T0).governance) == 1
        assert on(agreement, "2020-06-01", T0).events_applied == 2
        assert on(agreement, "2020-06-01", T0 + HOUR).governance == ()
        assert on(agreement, "2020-06-01", T0 + HOUR).events_applied == 1

    def test_nothing_recorded_after_known_at_is_seen(self) -> None:
        """An event appended after ``known_at`` is invisible, even if it is backdated."""
        agreement = later(log(), investment("2020-02-01", "5"), at=T0 + HOUR)
        assert on(agreement, "2020-12-31", T0).investments == {}
        assert on(agreement, "2020-12-31", T0 + HOUR - timedelta(microseconds=1)).investments == {}
        assert on(agreement, "2020-12-31", T0 + HOUR).investments != {}

    def test_the_agreement_is_unknown_before_its_first_append(self) -> None:
        """As known before anything was recorded there is no agreement."""
        with pytest.raises(DateOutOfRange, match="not known yet"):
            on(log(), "2020-12-31", T0 - HOUR)


class TestDatePrecision:
    """Dates known only to a month, a quarter or a year."""

    @pytest.mark.parametrize(
        ("precision", "day", "label"),
        [
            (DatePrecision.DAY, date(2023, 11, 17), "2023-11-17"),
            (DatePrecision.MONTH, date(2019, 7, 1), "2019-07"),
            (DatePrecision.QUARTER, date(2023, 10, 1), "2023-Q4"),
            (DatePrecision.QUARTER, date(2024, 1, 1), "2024-Q1"),
            (DatePrecision.YEAR, date(2025, 1, 1), "2025"),
        ],
    )
    def test_labels_mark_approximate_dates(
        self, precision: DatePrecision, day: date, label: str
    ) -> None:
        """A date is shown as precisely as its source gives it."""
        assert precision.label(day) == label

    @pytest.mark.parametrize(
        ("precision", "day", "admitted"),
        [
            (DatePrecision.MONTH, date(2019, 7, 2), False),
            (DatePrecision.QUARTER, date(2023, 11, 1), False),
            (DatePrecision.QUARTER, date(2023, 7, 1), True),
            (DatePrecision.YEAR, date(2025, 2, 1), False),
            (DatePrecision.DAY, date(2025, 2, 13), True),
        ],
    )
    def test_a_period_starts_on_its_first_day(
        self, precision: DatePrecision, day: date, admitted: bool
    ) -> None:
        """Only the first day of the period admits a coarser precision."""
        assert precision.admits(day) is admitted

    def test_a_governance_record_keeps_its_precision(self) -> None:
        """A governance event dated to a month keeps ``month`` and labels as YYYY-MM."""
        agreement = log(
            event("governance", "2021-07-01", date_precision="month", kind="other", entity="x")
        )
        record = on(agreement, "2021-07-31").governance[0]
        assert record.date_precision.label(record.effective_on) == "2021-07"


class TestFoldOrder:
    """The fold's total order: effective date, the opening first, then recording order."""

    def test_same_day_events_fold_in_recording_order(self) -> None:
        """Two amendments on one day: the one recorded last wins."""
        first = amendment("2021-01-01", {"amend": "globex-revenue-share", "terms": {"rate": "8"}})
        second = amendment("2021-01-01", {"amend": "globex-revenue-share", "terms": {"rate": "9"}})
        rate = "globex-revenue-share"
        assert on(log(first, second), "2021-01-01").clause_in_force(rate).terms.rate.value == 9
        assert on(log(second, first), "2021-01-01").clause_in_force(rate).terms.rate.value == 8

    def test_a_backdated_event_folds_in_its_effective_place(self) -> None:
        """An event recorded later but dated earlier is folded before later-dated ones."""
        agreement = later(
            log(amendment("2021-06-01", {"amend": "globex-revenue-share", "terms": {"rate": "8"}})),
            amendment("2021-01-01", {"amend": "globex-revenue-share", "terms": {"rate": "15"}}),
            at=T0 + HOUR,
        )
        assert (
            on(agreement, "2021-03-01").clause_in_force("globex-revenue-share").terms.rate.value
            == 15
        )
        assert (
            on(agreement, "2021-06-01").clause_in_force("globex-revenue-share").terms.rate.value
            == 8
        )

    def test_the_opening_folds_first_on_its_day(self) -> None:
        """An event on the opening day recorded with it comes after the opening."""
        agreement = log(investment("2020-01-01", "1"))
        entries = known(AGREEMENT, agreement.records).entries
        assert [e.type for e in sorted(entries)] == [
            "agreement_opened",
            "investment",
        ]
        assert on(agreement, "2020-01-01").events_applied == 2

    def test_fold_without_a_date_applies_everything(self) -> None:
        """``fold(None, entries)`` is the state after the last entry, ``as_of`` its date."""
        agreement = log(investment("2020-02-01", "1"), investment("2021-02-01", "1"))
        entries = known(AGREEMENT, agreement.records).entries
        everything = fold(None, entries)
        assert everything is not None
        assert everything.as_of == date(2021, 2, 1)
        assert everything.events_applied == 3
        assert on(agreement, "2020-06-01").events_applied == 2
        assert on(agreement, "2020-06-01").as_of == date(2020, 6, 1)

    def test_fold_before_the_opening_is_refused(self) -> None:
        """Folding to a date before the opening names the opening date."""
        with pytest.raises(DateOutOfRange, match="2020-01-01"):
            on(log(), "2019-01-01")


class TestLog:
    """``Log.open`` and ``.record``: the log, and what may join it."""

    def test_open_records_the_batch_with_one_timestamp_and_a_hash_chain(self) -> None:
        """Versions count from 1, every event shares the timestamp, digests chain."""
        agreement, new = Log.open(facts(opening(), investment("2020-02-01")), T0)
        assert {r.originator_id for r in new} == {agreement_uuid(AGREEMENT)}
        assert agreement.agreement == AGREEMENT
        assert agreement.records[-1].originator_version == 2
        assert [r.originator_version for r in new] == [1, 2]
        assert {r.recorded_at for r in new} == {T0}
        assert new[0].digest == chain.link(chain.GENESIS, new[0].plain, T0)
        assert new[1].digest == chain.link(new[0].digest, new[1].plain, T0)
        assert agreement.records == tuple(new)

    def test_open_needs_the_opening_first(self) -> None:
        """A new agreement's first event must be agreement_opened."""
        with pytest.raises(InvalidField, match="expected agreement_opened") as caught:
            Log.open(facts(investment("2020-02-01"), opening()), T0)
        assert caught.value.event_index == 1
        assert caught.value.path == "type"

    def test_record_appends_new_versions_and_leaves_the_original_alone(self) -> None:
        """Recording returns a new log; the old one is unchanged."""
        agreement = log()
        after, new = agreement.record(facts(investment("2020-02-01")), T0 + HOUR)
        assert len(agreement.records) == 1
        assert [r.originator_version for r in after.records] == [1, 2]
        assert after.records[-1].recorded_at == T0 + HOUR
        assert after.records[0].recorded_at == T0
        assert new[0].digest == chain.link(agreement.records[-1].digest, new[0].plain, T0 + HOUR)

    def test_record_refuses_a_batch_that_breaks_a_rule_naming_its_event(self) -> None:
        """The second event of the batch breaks a rule: the error says so."""
        agreement = log()
        batch = facts(investment("2020-02-01"), investment("2020-02-02", investor="initech"))
        with pytest.raises(RuleViolation, match="'initech'") as caught:
            agreement.record(batch, T0 + HOUR)
        assert caught.value.event_index == 2
        assert caught.value.event_type == "investment"
        assert caught.value.path == "investor"
        assert len(agreement.records) == 1

    def test_a_second_opening_is_refused(self) -> None:
        """An agreement opens once."""
        with pytest.raises(RuleViolation, match="one opening"):
            later(log(), opening("2021-01-01"), at=T0 + HOUR)

    def test_state_is_an_immutable_value(self) -> None:
        """The state cannot be changed in place."""
        state = on(log(), "2020-01-01")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            state.as_of = date(2021, 1, 1)  # type: ignore[misc]
