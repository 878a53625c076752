"""One test per rule of DESIGN: each refusal names the field and what came, and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from strategies import (
    AGREEMENT,
    SOURCE,
    amendment,
    document,
    event,
    investment,
    opening,
    stake,
)

from ledger import FileError, InvalidField, Ledger, RuleViolation
from ledger.adapters.files import parse_document

CLAUSES = [
    {
        "id": "supply-exclusivity",
        "kind": "exclusivity",
        "terms": {"holder": "acme", "grantor": "globex", "exclusive": True},
        "until": "2022-12-31",
    },
    {
        "id": "globex-revenue-share",
        "kind": "revenue_share",
        "terms": {"payer": "globex", "payee": "acme", "rate": "20"},
    },
    {"id": "acme-veto", "kind": "veto", "terms": {"holder": "acme", "over": ["restructuring"]}},
]


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store to test on: in memory, or a real SQLite file."""
    return "memory:" if request.param == "memory" else str(tmp_path / "ledger.sqlite")


@pytest.fixture
def ledger(store: str) -> Iterator[Ledger]:
    """A ledger holding acme-globex, opened on 2020-01-01 with three clauses."""
    with Ledger(store) as opened:
        opened.append(parse_document(document([opening(clauses=CLAUSES)])).events)
        yield opened


def append(ledger: Ledger, *events: dict[str, Any]) -> None:
    """Append ``events`` as an amendment file's document would give them."""
    ledger.append(parse_document(document(list(events))).events, agreement=AGREEMENT)


def refused(
    ledger: Ledger,
    events: list[dict[str, Any]],
    error: type[InvalidField],
    field: str,
    got: str,
    *,
    index: int = 1,
) -> InvalidField:
    """Assert that appending ``events`` is refused and writes nothing; the error caught."""
    before = ledger.history()
    with pytest.raises(error) as caught:
        append(ledger, *events)
    problem = caught.value
    assert problem.path == field
    assert problem.event_index == index
    assert problem.event_type == events[index - 1]["type"]
    assert got in str(problem)
    assert str(problem).startswith(f"event {index} ({events[index - 1]['type']}): {field}: ")
    assert ledger.history() == before
    if not ledger.location.is_memory:
        with Ledger(ledger.location.url) as reopened:
            assert reopened.history() == before
    return problem


def refused_file(
    ledger: Ledger, tmp_path: Path, events: list[dict[str, Any]], field: str, got: str
) -> None:
    """Assert that a file of ``events`` is refused with one line naming file, event and field."""
    path = tmp_path / "amendment.json"
    path.write_text(json.dumps(document(events)), encoding="utf-8")
    before = ledger.history()
    with pytest.raises(FileError) as caught:
        ledger.append_file(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: event 1 ({events[0]['type']}): {field}: expected")
    assert got in message
    assert "\n" not in message
    assert ledger.history() == before


class TestDates:
    """An event's date is not before the agreement opened."""

    def test_an_event_before_the_opening_is_refused(self, ledger: Ledger) -> None:
        """An investment dated the day before the opening is refused with both dates."""
        problem = refused(
            ledger,
            [investment("2019-12-31")],
            RuleViolation,
            "effective_on",
            "got '2019-12-31'",
        )
        assert "2020-01-01" in str(problem)

    def test_an_event_on_the_opening_day_is_accepted(self, ledger: Ledger) -> None:
        """The opening day itself is allowed."""
        append(ledger, investment("2020-01-01"))
        assert len(ledger.history()) == 2

    @staticmethod
    def backdating_correction() -> dict[str, Any]:
        """A correction of event 2 whose replacement is dated before the opening."""
        return {
            "type": "correction",
            "corrects": f"{AGREEMENT}#2",
            "reason": "wrong date",
            "source": SOURCE,
            "replacement": investment("2019-05-01"),
        }

    def test_a_correction_backdating_before_the_opening_is_refused(self, ledger: Ledger) -> None:
        """A correction's replacement obeys the same rule, and nothing is written."""
        append(ledger, investment("2020-05-01"))
        before = ledger.history()
        with pytest.raises(RuleViolation, match="got '2019-05-01'"):
            append(ledger, self.backdating_correction())
        assert ledger.history() == before

    def test_a_refused_correction_is_located_at_its_replacement(self, ledger: Ledger) -> None:
        """The error names the correction and the replacement's field, as shape errors do."""
        append(ledger, investment("2020-05-01"))
        refused(
            ledger,
            [self.backdating_correction()],
            RuleViolation,
            "replacement.effective_on",
            "got '2019-05-01'",
        )


class TestClausesInForce:
    """Only a clause in force on the date can be amended or removed."""

    @pytest.mark.parametrize("verb", ["amend", "remove"])
    def test_a_clause_that_never_existed(self, ledger: Ledger, verb: str) -> None:
        """Amending or removing an unknown clause id is refused."""
        change = (
            {"amend": "no-such-clause", "terms": {"rate": "1"}}
            if verb == "amend"
            else {"remove": "no-such-clause"}
        )
        problem = refused(
            ledger,
            [amendment("2021-01-01", change)],
            RuleViolation,
            f"changes[0].{verb}",
            "got 'no-such-clause'",
        )
        assert "not in force" in str(problem)

    @pytest.mark.parametrize("verb", ["amend", "remove"])
    def test_a_clause_whose_until_has_passed(self, ledger: Ledger, verb: str) -> None:
        """The day after ``until`` the clause has expired and cannot be changed."""
        change = (
            {"amend": "supply-exclusivity", "terms": {"exclusive": False}}
            if verb == "amend"
            else {"remove": "supply-exclusivity"}
        )
        refused(
            ledger,
            [amendment("2023-01-01", change)],
            RuleViolation,
            f"changes[0].{verb}",
            "got 'supply-exclusivity', which is not in force",
        )

    def test_a_clause_on_its_until_date_can_still_be_amended(self, ledger: Ledger) -> None:
        """On the ``until`` date itself the clause is in force."""
        append(
            ledger,
            amendment("2022-12-31", {"amend": "supply-exclusivity", "terms": {"exclusive": False}}),
        )
        state = ledger.state_at(ledger.history()[-1].effective_on)
        assert state.clause_in_force("supply-exclusivity").terms.exclusive is False

    def test_a_removed_clause(self, ledger: Ledger) -> None:
        """A clause removed earlier cannot be amended later."""
        append(ledger, amendment("2021-01-01", {"remove": "globex-revenue-share"}))
        refused(
            ledger,
            [amendment("2021-02-01", {"amend": "globex-revenue-share", "terms": {"rate": "1"}})],
            RuleViolation,
            "changes[0].amend",
            "got 'globex-revenue-share'",
        )

    def test_a_clause_removed_earlier_in_the_same_amendment(self, ledger: Ledger) -> None:
        """Changes of one amendment apply in order: amend after remove is refused, atomically."""
        refused(
            ledger,
            [
                amendment(
                    "2021-01-01",
                    {"remove": "globex-revenue-share"},
                    {"amend": "globex-revenue-share", "terms": {"rate": "1"}},
                )
            ],
            RuleViolation,
            "changes[1].amend",
            "got 'globex-revenue-share'",
        )

    def test_adding_a_clause_already_in_force(self, ledger: Ledger) -> None:
        """An added clause's id must not be in force already."""
        refused(
            ledger,
            [amendment("2021-01-01", {"add": {"id": "acme-veto", "kind": "custom", "terms": {}}})],
            RuleViolation,
            "changes[0].add.id",
            "got 'acme-veto'",
        )


class TestPercentages:
    """Percentages are 0–100 and stakes in one entity sum to at most 100."""

    @pytest.mark.parametrize("percent", ["100.000000000001", "101", "-1", "-0.5"])
    def test_a_stake_outside_0_to_100(self, ledger: Ledger, percent: str) -> None:
        """A stake's percent outside 0–100 is refused, quoting it."""
        refused(
            ledger,
            [stake("2021-01-01", "acme", "globex", percent)],
            InvalidField,
            "percent",
            "expected a percentage between 0 and 100",
        )

    def test_a_rate_outside_0_to_100(self, ledger: Ledger) -> None:
        """A clause's rate is a percentage too."""
        refused(
            ledger,
            [amendment("2021-01-01", {"amend": "globex-revenue-share", "terms": {"rate": "120"}})],
            InvalidField,
            "changes[0].terms.rate",
            "got '120'",
        )

    @pytest.mark.parametrize("percent", ["0", "100"])
    def test_the_bounds_are_accepted(self, ledger: Ledger, percent: str) -> None:
        """0 and 100 are percentages."""
        append(ledger, stake("2021-01-01", "acme", "globex", percent))
        assert len(ledger.history()) == 2

    def test_stakes_in_one_entity_over_100(self, ledger: Ledger) -> None:
        """60% + 41% of one entity is refused, naming both."""
        append(ledger, stake("2021-01-01", "acme", "globex-labs", "60"))
        problem = refused(
            ledger,
            [stake("2021-02-01", "globex", "globex-labs", "40.5")],
            RuleViolation,
            "percent",
            "got 60% (acme) + 40.5% (globex)",
        )
        assert "'globex-labs'" in str(problem)

    def test_a_recapitalisation_on_one_day_may_come_in_any_order(self, ledger: Ledger) -> None:
        """60/40 becomes 70/30 in one file, the raise listed before the cut."""
        append(
            ledger,
            stake("2021-01-01", "acme", "globex-labs", "60"),
            stake("2021-01-01", "globex", "globex-labs", "40"),
        )
        append(
            ledger,
            stake("2022-01-01", "acme", "globex-labs", "70"),
            stake("2022-01-01", "globex", "globex-labs", "30"),
        )
        stakes = ledger.state_at(date(2022, 1, 1)).stakes
        assert stakes[("acme", "globex-labs")].percent.value == 70

    def test_stakes_in_different_entities_do_not_add_up(self, ledger: Ledger) -> None:
        """The sum is per entity."""
        append(
            ledger,
            stake("2021-01-01", "acme", "globex-labs", "60"),
            stake("2021-01-01", "globex", "acme", "60"),
        )
        assert len(ledger.state_at(ledger.history()[-1].effective_on).stakes) == 2

    def test_a_holder_replacing_its_own_stake_is_not_counted_twice(self, ledger: Ledger) -> None:
        """Raising one's own stake from 60 to 100 is fine."""
        append(
            ledger,
            stake("2021-01-01", "acme", "globex-labs", "60"),
            stake("2021-02-01", "acme", "globex-labs", "100"),
        )
        assert len(ledger.history()) == 3


class TestMoney:
    """Money is non-negative, with a currency, within the digit limits, in plain decimal."""

    def test_a_negative_amount(self, ledger: Ledger) -> None:
        """A negative investment is refused, quoting the amount."""
        refused(
            ledger,
            [investment("2021-01-01", "-5")],
            InvalidField,
            "amount.amount",
            "expected a non-negative amount, got '-5'",
        )

    def test_a_missing_currency(self, ledger: Ledger) -> None:
        """An amount without its currency is refused."""
        bare = investment("2021-01-01")
        bare["amount"] = {"amount": "5"}
        refused(ledger, [bare], InvalidField, "amount.currency", "required field is missing")

    @pytest.mark.parametrize("currency", ["usd", "US", "DOLLARS", ""])
    def test_a_malformed_currency(self, ledger: Ledger, currency: str) -> None:
        """A currency is a three-letter upper-case code."""
        refused(
            ledger,
            [investment("2021-01-01", currency=currency)],
            InvalidField,
            "amount.currency",
            f"got {currency!r}",
        )

    def test_a_negative_threshold(self, ledger: Ledger) -> None:
        """Money inside clause terms is checked the same way."""
        change = {
            "amend": "globex-revenue-share",
            "terms": {"threshold": {"amount": "-1", "currency": "USD"}},
        }
        refused(
            ledger,
            [amendment("2021-01-01", change)],
            InvalidField,
            "changes[0].terms.threshold.amount",
            "got '-1'",
        )

    @pytest.mark.parametrize(
        ("amount", "got"),
        [
            (
                "1234567890123456789",
                "expected at most 18 integer digits, got '1234567890123456789'",
            ),
            ("1.0000000000001", "expected at most 12 fractional digits, got '1.0000000000001'"),
            ("1e9", "no exponent), got '1e9'"),
            ("1E9", "got '1E9'"),
            ("NaN", "got 'NaN'"),
            ("Infinity", "got 'Infinity'"),
            ("-inf", "got '-inf'"),
            ("1,000", "got '1,000'"),
            ("1.", "got '1.'"),
            (".5", "got '.5'"),
            ("", "got ''"),
            (True, "got True"),
            (float("nan"), "got 'nan'"),
            (float("inf"), "got 'inf'"),
        ],
    )
    def test_an_amount_that_is_not_a_plain_decimal_within_limits(
        self, ledger: Ledger, amount: object, got: str
    ) -> None:
        """Too many digits, exponents, NaN, infinities and other text are refused."""
        refused(
            ledger,
            [investment("2021-01-01", amount)],  # type: ignore[arg-type]
            InvalidField,
            "amount.amount",
            got,
        )

    @pytest.mark.parametrize(
        "amount", ["123456789012345678", "0.000000000001", "123456789012345678.123456789012", 0.1]
    )
    def test_amounts_at_the_limits_are_accepted(self, ledger: Ledger, amount: object) -> None:
        """18 integer and 12 fractional digits, and a float by its shortest form, are fine."""
        append(ledger, investment("2021-01-01", amount))  # type: ignore[arg-type]
        totals = ledger.state_at(date(2021, 1, 1)).investments
        assert totals[("acme", "globex", "USD")].total.amount == Decimal(str(amount))

    def test_a_small_plain_json_number_is_accepted(self, ledger: Ledger, tmp_path: Path) -> None:
        """``"amount": 0.00001`` in a JSON file is a plain decimal and is accepted as such."""
        path = tmp_path / "small.json"
        text = json.dumps(document([investment("2021-01-01")])).replace('"100"', "0.00001")
        path.write_text(text, encoding="utf-8")
        ledger.append_file(str(path))
        totals = ledger.state_at(date(2021, 1, 1)).investments
        assert totals[("acme", "globex", "USD")].total.amount == Decimal("0.00001")

    def test_an_exponent_in_a_json_number_is_refused(self, ledger: Ledger, tmp_path: Path) -> None:
        """``"amount": 1e3`` in a JSON file is written with an exponent and is refused."""
        path = tmp_path / "exponent.json"
        text = json.dumps(document([investment("2021-01-01")])).replace('"100"', "1e3")
        path.write_text(text, encoding="utf-8")
        before = ledger.history()
        with pytest.raises(FileError, match=r"amount\.amount"):
            ledger.append_file(str(path))
        assert ledger.history() == before


class TestVetoes:
    """A restructuring needs the approval of every veto holder over restructuring in force."""

    def test_a_restructuring_without_the_veto_holder(self, ledger: Ledger) -> None:
        """Globex alone cannot approve a restructuring acme holds a veto over."""
        problem = refused(
            ledger,
            [
                event(
                    "governance",
                    "2021-01-01",
                    kind="restructuring",
                    entity="globex",
                    approved_by=["globex"],
                )
            ],
            RuleViolation,
            "approved_by",
            "got ['globex']",
        )
        assert "'acme'" in str(problem)
        assert "'acme-veto'" in str(problem)

    def test_a_restructuring_without_any_approval(self, ledger: Ledger) -> None:
        """No approvals at all is refused too."""
        refused(
            ledger,
            [event("governance", "2021-01-01", kind="restructuring", entity="globex")],
            RuleViolation,
            "approved_by",
            "got []",
        )

    def test_every_veto_holder_must_approve(self, ledger: Ledger) -> None:
        """With two veto holders, one approval is not enough."""
        append(
            ledger,
            amendment(
                "2020-06-01",
                {
                    "add": {
                        "id": "globex-veto",
                        "kind": "veto",
                        "terms": {"holder": "globex", "over": ["restructuring", "board_changed"]},
                    }
                },
            ),
        )
        refused(
            ledger,
            [
                event(
                    "governance",
                    "2021-01-01",
                    kind="restructuring",
                    entity="globex",
                    approved_by=["acme"],
                )
            ],
            RuleViolation,
            "approved_by",
            "expected approval by 'globex'",
        )

    def test_approval_by_every_veto_holder_is_accepted(self, ledger: Ledger) -> None:
        """With the veto holder's approval the restructuring is recorded."""
        append(
            ledger,
            event(
                "governance",
                "2021-01-01",
                kind="restructuring",
                entity="globex",
                approved_by=["acme", "globex"],
            ),
        )
        assert ledger.history()[-1].fact.approved_by == ("acme", "globex")

    def test_a_removed_veto_needs_no_approval(self, ledger: Ledger) -> None:
        """Once the veto is out of force the restructuring needs no approval."""
        append(
            ledger,
            amendment("2020-06-01", {"remove": "acme-veto"}),
            event("governance", "2021-01-01", kind="restructuring", entity="globex"),
        )
        assert len(ledger.history()) == 3

    def test_a_veto_over_other_kinds_does_not_apply(self, ledger: Ledger) -> None:
        """A veto over restructuring says nothing about a CEO's removal."""
        append(ledger, event("governance", "2021-01-01", kind="ceo_removed", entity="globex"))
        assert len(ledger.history()) == 2


class TestWithdrawals:
    """A correction or retraction names an existing event not yet withdrawn."""

    @staticmethod
    def retraction(target: str) -> dict[str, Any]:
        """A retraction of ``target``."""
        return {"type": "retraction", "retracts": target, "reason": "r", "source": SOURCE}

    @staticmethod
    def correction(target: str, amount: str = "7") -> dict[str, Any]:
        """A correction of ``target`` by an investment of ``amount``."""
        return {
            "type": "correction",
            "corrects": target,
            "reason": "r",
            "source": SOURCE,
            "replacement": investment("2020-05-01", amount),
        }

    @pytest.mark.parametrize("kind", ["correction", "retraction"])
    def test_an_unknown_event(self, ledger: Ledger, kind: str) -> None:
        """An id that was never recorded is refused."""
        withdrawal = getattr(self, kind)(f"{AGREEMENT}#99")
        field = "corrects" if kind == "correction" else "retracts"
        refused(ledger, [withdrawal], RuleViolation, field, f"got '{AGREEMENT}#99'")

    @pytest.mark.parametrize("kind", ["correction", "retraction"])
    def test_an_event_already_retracted(self, ledger: Ledger, kind: str) -> None:
        """An event already withdrawn cannot be withdrawn again."""
        append(ledger, investment("2020-05-01"))
        append(ledger, self.retraction(f"{AGREEMENT}#2"))
        field = "corrects" if kind == "correction" else "retracts"
        problem = refused(
            ledger,
            [getattr(self, kind)(f"{AGREEMENT}#2")],
            RuleViolation,
            field,
            f"which {AGREEMENT}#3 already withdrew",
        )
        assert "not yet withdrawn" in str(problem)

    def test_an_event_already_corrected(self, ledger: Ledger) -> None:
        """The original of a correction cannot be corrected a second time."""
        append(ledger, investment("2020-05-01"))
        append(ledger, self.correction(f"{AGREEMENT}#2"))
        refused(
            ledger,
            [self.correction(f"{AGREEMENT}#2", "9")],
            RuleViolation,
            "corrects",
            f"got '{AGREEMENT}#2', which {AGREEMENT}#3 already withdrew",
        )

    def test_an_event_withdrawn_earlier_in_the_same_batch(self, ledger: Ledger) -> None:
        """Two withdrawals of one event in one batch: the second is refused, nothing written."""
        append(ledger, investment("2020-05-01"))
        refused(
            ledger,
            [self.retraction(f"{AGREEMENT}#2"), self.correction(f"{AGREEMENT}#2")],
            RuleViolation,
            "corrects",
            f"which {AGREEMENT}#3 already withdrew",
            index=2,
        )

    def test_a_correction_of_a_correction_is_accepted(self, ledger: Ledger) -> None:
        """A correction is an event like any other: it can itself be corrected."""
        append(ledger, investment("2020-05-01"))
        append(ledger, self.correction(f"{AGREEMENT}#2", "7"))
        append(ledger, self.correction(f"{AGREEMENT}#3", "8"))
        state = ledger.state_at(date(2021, 1, 1))
        assert state.investments[("acme", "globex", "USD")].total.amount == 8


class TestParties:
    """Investors, recipients, holders, payers, payees and approvers are parties."""

    @pytest.mark.parametrize(
        ("events", "field"),
        [
            ([investment("2021-01-01", investor="initech")], "investor"),
            ([investment("2021-01-01", recipient="initech")], "recipient"),
            ([stake("2021-01-01", "initech", "globex", "5")], "holder"),
            (
                [
                    amendment(
                        "2021-01-01",
                        {
                            "add": {
                                "id": "rs",
                                "kind": "revenue_share",
                                "terms": {"payer": "initech"},
                            }
                        },
                    )
                ],
                "changes[0].add.terms.payer",
            ),
            (
                [
                    amendment(
                        "2021-01-01",
                        {"amend": "globex-revenue-share", "terms": {"payee": "initech"}},
                    )
                ],
                "changes[0].terms.payee",
            ),
            (
                [amendment("2021-01-01", {"amend": "acme-veto", "terms": {"holder": "initech"}})],
                "changes[0].terms.holder",
            ),
            (
                [
                    event(
                        "governance",
                        "2021-01-01",
                        kind="board_changed",
                        entity="globex",
                        approved_by=["acme", "initech"],
                    )
                ],
                "approved_by[1]",
            ),
        ],
        ids=["investor", "recipient", "holder", "payer", "payee", "veto-holder", "approver"],
    )
    def test_a_non_party(self, ledger: Ledger, events: list[dict[str, Any]], field: str) -> None:
        """A non-party in a party's role is refused, listing the parties."""
        problem = refused(ledger, events, RuleViolation, field, "got 'initech'")
        assert "(acme, globex)" in str(problem)

    def test_an_entity_may_be_any_id(self, ledger: Ledger) -> None:
        """The entity of a stake need not be a party."""
        append(ledger, stake("2021-01-01", "acme", "initech", "5"))
        assert len(ledger.history()) == 2


class TestBackdating:
    """A backdated event that breaks a later existing event is refused."""

    def test_removing_a_clause_before_a_recorded_amendment_of_it(self, ledger: Ledger) -> None:
        """Removing the revenue share before its recorded amendment would break the amendment."""
        append(
            ledger,
            amendment("2021-06-01", {"amend": "globex-revenue-share", "terms": {"rate": "8"}}),
        )
        problem = refused(
            ledger,
            [amendment("2021-03-01", {"remove": "globex-revenue-share"})],
            RuleViolation,
            "changes[0].amend",
            "got 'globex-revenue-share'",
        )
        assert f"would break {AGREEMENT}#2 (amendment on 2021-06-01)" in str(problem)

    def test_a_stake_before_a_recorded_stake_that_then_exceeds_100(self, ledger: Ledger) -> None:
        """A backdated 60% breaks a recorded later 50% of the same entity."""
        append(ledger, stake("2021-06-01", "globex", "globex-labs", "50"))
        problem = refused(
            ledger,
            [stake("2021-03-01", "acme", "globex-labs", "60")],
            RuleViolation,
            "percent",
            "got 60% (acme) + 50% (globex)",
        )
        assert "would break" in str(problem)

    def test_a_veto_added_before_a_recorded_restructuring(self, ledger: Ledger) -> None:
        """A backdated veto for globex breaks a restructuring it did not approve."""
        append(
            ledger,
            event(
                "governance",
                "2021-06-01",
                kind="restructuring",
                entity="globex",
                approved_by=["acme"],
            ),
        )
        veto = {
            "id": "globex-veto",
            "kind": "veto",
            "terms": {"holder": "globex", "over": ["restructuring"]},
        }
        refused(
            ledger,
            [amendment("2021-03-01", {"add": veto})],
            RuleViolation,
            "approved_by",
            "expected approval by 'globex'",
        )

    @staticmethod
    def clause_added_then_amended(ledger: Ledger) -> None:
        """Record clause ``ip`` added in 2021-01 (event 2) and amended in 2021-06 (event 3)."""
        add = {"add": {"id": "ip", "kind": "ip_rights", "terms": {}}}
        append(ledger, amendment("2021-01-01", add))
        append(ledger, amendment("2021-06-01", {"amend": "ip", "terms": {"scope": "all"}}))

    def test_a_retraction_that_breaks_a_later_event(self, ledger: Ledger) -> None:
        """Retracting the amendment that added a clause breaks a later amendment of it."""
        self.clause_added_then_amended(ledger)
        before = ledger.history()
        with pytest.raises(RuleViolation) as caught:
            append(ledger, TestWithdrawals.retraction(f"{AGREEMENT}#2"))
        assert caught.value.path == "changes[0].amend"
        assert "got 'ip'" in str(caught.value)
        assert f"would break {AGREEMENT}#3 (amendment on 2021-06-01)" in str(caught.value)
        assert ledger.history() == before

    def test_a_retraction_that_breaks_a_later_event_names_its_type(self, ledger: Ledger) -> None:
        """The error line names the retraction as the event at fault."""
        self.clause_added_then_amended(ledger)
        refused(
            ledger,
            [TestWithdrawals.retraction(f"{AGREEMENT}#2")],
            RuleViolation,
            "changes[0].amend",
            "got 'ip'",
        )

    def test_a_backdated_event_that_breaks_nothing_is_accepted(self, ledger: Ledger) -> None:
        """Backdating is allowed when the timeline stays valid."""
        append(
            ledger,
            amendment("2021-06-01", {"amend": "globex-revenue-share", "terms": {"rate": "8"}}),
        )
        append(
            ledger,
            amendment("2021-03-01", {"amend": "globex-revenue-share", "terms": {"rate": "12"}}),
        )
        assert [e.version for e in ledger.history()] == [1, 3, 2]


class TestProposals:
    """A proposal is checked for shape when made and against the rules when concluded."""

    TALKS = (
        event(
            "renegotiation_opened",
            "2021-01-01",
            renegotiation="talks",
            topics=["exclusivity"],
            initiated_by="globex",
        ),
        event(
            "proposal",
            "2021-02-01",
            renegotiation="talks",
            proposal="end-exclusivity",
            by="globex",
            changes=[{"amend": "supply-exclusivity", "terms": {"exclusive": False}}],
        ),
    )

    def test_an_accepted_proposal_that_breaks_a_rule_at_conclusion(self, ledger: Ledger) -> None:
        """Concluded after the clause expired, the accepted amendment is refused."""
        append(ledger, *self.TALKS)
        problem = refused(
            ledger,
            [
                event(
                    "renegotiation_concluded",
                    "2023-02-01",
                    renegotiation="talks",
                    accepted="end-exclusivity",
                )
            ],
            RuleViolation,
            "accepted (end-exclusivity).changes[0].amend",
            "got 'supply-exclusivity', which is not in force",
        )
        assert "2023-02-01" in str(problem)

    def test_the_same_proposal_concluded_in_time_is_accepted(self, ledger: Ledger) -> None:
        """Concluded while the clause is in force, the change applies."""
        append(ledger, *self.TALKS)
        append(
            ledger,
            event(
                "renegotiation_concluded",
                "2021-03-01",
                renegotiation="talks",
                accepted="end-exclusivity",
            ),
        )
        state = ledger.state_at(ledger.history()[-1].effective_on)
        assert state.clause_in_force("supply-exclusivity").terms.exclusive is False

    def test_a_proposal_naming_a_non_party_is_refused_at_conclusion(self, ledger: Ledger) -> None:
        """A proposal giving a non-party a clause is taken when made, refused when concluded."""
        append(
            ledger,
            self.TALKS[0],
            event(
                "proposal",
                "2021-02-01",
                renegotiation="talks",
                proposal="outsider",
                by="acme",
                changes=[{"add": {"id": "x", "kind": "ip_rights", "terms": {"holder": "initech"}}}],
            ),
        )
        refused(
            ledger,
            [
                event(
                    "renegotiation_concluded",
                    "2021-03-01",
                    renegotiation="talks",
                    accepted="outsider",
                )
            ],
            RuleViolation,
            "accepted (outsider).changes[0].add.terms.holder",
            "got 'initech'",
        )

    def test_accepting_a_proposal_that_was_not_made(self, ledger: Ledger) -> None:
        """The accepted proposal must have been made in those talks."""
        append(ledger, *self.TALKS)
        refused(
            ledger,
            [
                event(
                    "renegotiation_concluded", "2021-03-01", renegotiation="talks", accepted="nope"
                )
            ],
            RuleViolation,
            "accepted",
            "got 'nope'",
        )

    def test_a_proposal_is_checked_for_shape_when_made(self, ledger: Ledger) -> None:
        """A proposal with no changes is refused at once."""
        append(ledger, self.TALKS[0])
        refused(
            ledger,
            [
                event(
                    "proposal",
                    "2021-02-01",
                    renegotiation="talks",
                    proposal="p",
                    by="acme",
                    changes=[],
                )
            ],
            InvalidField,
            "changes",
            "got none",
        )


class TestFiles:
    """A refused file names the file, the event and the field on one line."""

    @pytest.mark.parametrize(
        ("fact", "field", "got"),
        [
            (investment("2019-01-01"), "effective_on", "got '2019-01-01'"),
            (investment("2021-01-01", "-1"), "amount.amount", "got '-1'"),
            (amendment("2021-01-01", {"remove": "nope"}), "changes[0].remove", "got 'nope'"),
        ],
        ids=["before-opening", "negative", "not-in-force"],
    )
    def test_a_refused_file_writes_nothing(
        self, ledger: Ledger, tmp_path: Path, fact: dict[str, Any], field: str, got: str
    ) -> None:
        """Shape and timeline errors alike come back as one FileError line."""
        refused_file(ledger, tmp_path, [fact], field, got)
