"""The templates and the filters they format values with (escaping is always on)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import jinja2

from ledger.domain.events import DatedEvent, Fact, summary
from ledger.domain.values import DatePrecision


def environment() -> jinja2.Environment:
    """Jinja2 over the package's templates, autoescaping every value."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ledger.entrypoints.web", "templates"),
        autoescape=True,  # every text from events is escaped, whatever the template's name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        approx=approx,
        value=show_value,
        change=show_change,
        when=when,
        anchor=anchor,
        segment=segment,
        summary=summary,
        effective=effective,
    )
    env.globals["qs"] = query_string
    for name in env.list_templates():  # compiled now, not on a reader's first page
        env.get_template(name)
    return env


def approx(day: str | date | None, precision: str = "day") -> str:
    """A date as precisely as the source gives it: ``2023-Q4``, ``2019-07``, ``2025``."""
    if day is None:
        return "—"
    on = day if isinstance(day, date) else date.fromisoformat(day)
    return DatePrecision(precision).label(on)


def effective(fact: Fact) -> str:
    """An event's effective date, as precisely as its source gives it."""
    if isinstance(fact, DatedEvent):
        return fact.date_precision.label(fact.effective_on)
    return "—"  # a correction or retraction has no date of its own


def show_value(value: Any) -> str:
    """A term's value for reading: yes/no, an amount with its currency, a list."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and set(value) == {"amount", "currency"}:
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    return str(value)


def show_change(change: dict[str, Any]) -> str:
    """A proposed clause change (its plain form) in one line."""
    if "add" in change:
        added = change["add"]
        return f"add {added['id']} ({added['kind']}): {show_value(added.get('terms') or {})}"
    if "remove" in change:
        return f"remove {change['remove']}"
    terms = ", ".join(f"{k}={show_value(v)}" for k, v in (change.get("terms") or {}).items())
    until = f" until {change['until']}" if change.get("until") else ""
    return f"amend {change.get('amend')}: {terms}{until}"


def when(moment: str | datetime | None) -> str:
    """A recording time, to the second, in UTC."""
    if moment is None:
        return "now"
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def anchor(event_id: str) -> str:
    """The fragment an event's row has on the history page (``#`` is not welcome there)."""
    return "event-" + event_id.replace("#", "-")


def segment(text: str) -> str:
    """A path segment, percent-encoded."""
    return quote(text, safe="")


def query_string(**params: Any) -> str:
    """``?a=1&b=2`` from the parameters that have a value ("" when none has)."""
    items = [
        (name, v)
        for name, value in params.items()
        for v in (value if isinstance(value, list | tuple) else [value])
        if v not in (None, "")
    ]
    return "?" + urlencode(items) if items else ""
