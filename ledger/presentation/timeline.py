"""``ledger timeline``'s outputs: a ``Picture`` drawn as HTML, SVG, PNG or terminal text.

Every renderer draws the same lanes, aggregated so that a history of any length stays
readable and small (``ledger.presentation.lanes`` says how): clause rows (a row per
clause id, or per clause kind past 60 ids) with their amendments binned into a few
markers, investment and stake steps thinned to a few hundred points per series,
governance events per kind, renegotiations, and the termination. Approximate dates are
drawn hatched or faded and labelled as the source gives them (``2023-Q4``). A picture's
``compare`` is drawn as a ghost layer: outlined bars, or rows of dots in the terminal.

The HTML and the static pictures need the ``pictures`` extra (plotly, matplotlib); they
are imported only when asked for, so the CLI starts without them. Nothing here reads a
store, starts a browser or reaches the network.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from ledger.errors import MissingExtra

if TYPE_CHECKING:
    from rich.console import Console

    from ledger.domain.spans import Picture

__all__ = ["can_draw", "to_html", "to_png", "to_svg", "to_text", "to_text_html"]

# The module each picture needs, from the pictures extra.
NEEDS = {"html": "plotly", "svg": "matplotlib", "png": "matplotlib"}


def to_html(picture: Picture) -> str:
    """One self-contained, interactive HTML page (plotly's JavaScript inlined: no CDN).

    Hovering a bar, a marker or a step shows its events, terms and sources. The page
    stays under 5 MB whatever the picture's size: past 60 clause ids the clause lane has
    a row per clause kind, shaded by how many of its clauses were in force; a bar's
    amendments are binned into at most 8 markers that count them; step series are
    thinned to at most 300 points (600 per lane), keeping each stretch's last value;
    governance has a lane per kind with at most 20 markers; past 12 renegotiations,
    a row per status. When even that is too big, every limit is halved until it fits.
    """
    _require("html")
    from ledger.presentation import interactive

    return interactive.render(picture)


def to_svg(picture: Picture) -> bytes:
    """A static SVG picture (matplotlib, no browser); its text stays selectable text."""
    _require("svg")
    from ledger.presentation import static

    return static.render(picture, "svg")


def to_png(picture: Picture) -> bytes:
    """A static PNG picture (matplotlib's Agg renderer, no browser)."""
    _require("png")
    from ledger.presentation import static

    return static.render(picture, "png")


def to_text(picture: Picture, console: Console) -> None:
    """A compact text timeline printed on ``console``, fitted to its width."""
    from ledger.presentation import terminal

    terminal.render(picture, console)


def to_text_html(picture: Picture, width: int = 120) -> str:
    """The text timeline as an HTML page (colours as inline styles): what the web view
    shows where the pictures extra is not installed."""
    from io import StringIO

    from rich.console import Console

    out = Console(record=True, width=width, file=StringIO(), color_system="truecolor")
    to_text(picture, out)
    return out.export_html(inline_styles=True)


def can_draw(suffix: str) -> bool:
    """Whether the picture ``suffix`` names (``html``, ``svg``, ``png``) can be drawn here."""
    return importlib.util.find_spec(NEEDS[suffix]) is not None


def _require(suffix: str) -> None:
    if not can_draw(suffix):
        raise MissingExtra(
            f"-o x.{suffix} needs the pictures extra ({NEEDS[suffix]} is not installed): "
            "pip install 'contract-ledger[pictures]'"
        )
