"""A one-line progress bar for management commands, drawn only for a person.

Cron jobs and CI logs get nothing from it: the bar is drawn only when the
command's output is a terminal and ``--verbosity`` is at least 1.
"""

from __future__ import annotations

import time

from django.core.management.base import OutputWrapper

#: Seconds between two redraws; the final state is always drawn.
REDRAW_INTERVAL = 0.1
BAR_WIDTH = 30


class Progress:
    """``label [#######.......]  45%  4,500/10,000`` redrawn in place.

    ``total`` may be ``None`` (unknown): only the count is shown then.
    """

    def __init__(
        self, stream: OutputWrapper, label: str, total: int | None, *, enabled: bool
    ) -> None:
        self.stream = stream
        self.label = label
        self.total = total
        self.enabled = enabled
        self.done = 0
        self._drawn_at = 0.0

    @staticmethod
    def wanted(stream: OutputWrapper, verbosity: int) -> bool:
        """Whether a bar is drawn: on a terminal, at verbosity 1 or more.

        Commands ask before counting rows for the bar's total, so cron never
        pays for that count.
        """
        return verbosity >= 1 and stream.isatty()

    @classmethod
    def for_command(
        cls, stream: OutputWrapper, label: str, total: int | None, verbosity: int
    ) -> Progress:
        """A bar that draws only when :meth:`wanted`."""
        return cls(stream, label, total, enabled=cls.wanted(stream, verbosity))

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self._drawn_at >= REDRAW_INTERVAL:
            self._draw()
            self._drawn_at = now

    def finish(self) -> None:
        """Draw the final state and end the line (nothing if never enabled)."""
        if self.enabled:
            self._draw()
            self.stream.write("\n", ending="")
            self.stream.flush()

    def render(self) -> str:
        total = self.total
        if not total:
            return f"{self.label}  {self.done:,}"
        fraction = min(self.done / total, 1.0)
        filled = round(BAR_WIDTH * fraction)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        counts = f"{self.done:,}/{max(total, self.done):,}"
        return f"{self.label} [{bar}] {fraction:4.0%}  {counts}"

    def _draw(self) -> None:
        # "\r" returns to the start of the line; the padding erases a longer
        # previous rendering.
        self.stream.write(f"\r{self.render():<79}", ending="")
        self.stream.flush()
