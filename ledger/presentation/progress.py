"""Progress of long work on standard error: a rich progress bar on a terminal, nothing at
all when standard error is not one (piped, redirected, captured by a test).

The bar is the application's ``Progress`` callback. It appears only once the work has
taken ``DELAY`` seconds, so a quick command never flickers, and it is transient: when the
work ends it is gone, and the command prints its one-line summary.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

DELAY = 0.4  # seconds of work before a bar is worth showing


class ProgressBar:
    """A ``Progress`` callback (stage, done, total) drawn as a rich progress bar."""

    def __init__(self, out: Console | None = None, *, delay: float = DELAY) -> None:
        self._out = out if out is not None else Console(stderr=True)
        self._delay = delay
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._shown = False
        self._done = False

    @property
    def enabled(self) -> bool:
        """Whether anyone can see it: standard error is a terminal."""
        return self._out.is_terminal

    @property
    def shown(self) -> bool:
        """Whether the bar has been drawn (the work took long enough)."""
        return self._shown

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self._done:
                return
            if self._bar is None:
                self._bar = Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=self._out,
                    transient=True,
                )
                self._timer = threading.Timer(self._delay, self._show)
                self._timer.daemon = True
                self._timer.start()
            task = self._tasks.get(stage)
            if task is None:
                for earlier in self._tasks.values():  # one stage at a time: the others are done
                    self._bar.update(earlier, visible=False)
                task = self._tasks[stage] = self._bar.add_task(stage, total=total)
            self._bar.update(task, completed=done, total=total)

    def _show(self) -> None:
        with self._lock:
            if self._bar is not None and not self._done:
                self._bar.start()
                self._shown = True

    def close(self) -> None:
        """Take the bar off the screen (it is transient) and stop listening."""
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None and self._shown:
                self._bar.stop()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
