"""Progress on long commands (``build``, ``run``, ``submit``, ``train``, ``validate``, ``screen``): one
line per pipeline stage, a spinner with the elapsed time while a stage has no count, and a rich progress
bar with the time left where there is a count (jobs of a flow, candidates written, validation cases,
training epochs, screening evaluations). Shown only when stdout and stderr are
terminals and the output format is ``table``: piped output and ``--format json/csv`` stay clean."""

import sys
import time
from datetime import timedelta

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn, \
    TimeElapsedColumn
from rich.text import Text

from contactflow.cli.common import err_console


class TimeLeftColumn(ProgressColumn):
    """Time left from the mean time per step since the bar started.

    rich's ``TimeRemainingColumn`` estimates the speed from the steps of the last 30 s only, so with
    steps of minutes (jobs, validation cases, epochs, screening evaluations) it never shows a number.
    Steps already done when the bar started (a resumed campaign: field ``base``) do not count.
    """

    def render(self, task) -> Text:
        done = task.completed - task.fields.get("base", 0)
        if not task.total or done <= 0 or not task.elapsed:
            return Text("-:--:--", style="progress.remaining")
        left = task.elapsed / done * max(task.total - task.completed, 0)
        return Text(str(timedelta(seconds=round(left))), style="progress.remaining")


def interactive(fmt: str = "table") -> bool:
    """Whether progress is shown: table output on a terminal."""
    return fmt == "table" and sys.stdout.isatty() and sys.stderr.isatty()


class CliProgress:
    """``with CliProgress(enabled) as p:`` then pass ``p.stage`` as the api's ``progress`` callback and
    ``p.job`` as its ``on_job`` hook; ``p.count(total, what)`` / ``p.advance()`` for other counted loops."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bar = None
        self._task = None
        self._stage_task = None
        self._t0 = time.monotonic()

    def __enter__(self) -> "CliProgress":
        if self.enabled:
            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("left"), TimeLeftColumn(),
                console=err_console, transient=True, refresh_per_second=8,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def stage(self, stage: str, detail: str) -> None:
        """One line per stage (kept above the bar), and the bar's label follows the stage."""
        if not self.enabled:
            return
        err_console.print(f"[dim]{time.monotonic() - self._t0:6.1f}s {stage}:[/dim] {detail}", highlight=False)
        if self._bar is not None and self._task is None:
            if self._stage_task is None:
                self._stage_task = self._bar.add_task(stage, total=None)
            self._bar.update(self._stage_task, description=stage)

    def count(self, total: int, what: str, start: int = 0) -> None:
        """Start a counted bar (replacing the stage spinner) at ``start`` steps already done."""
        if self._bar is None:
            return
        if self._stage_task is not None:
            self._bar.remove_task(self._stage_task)
            self._stage_task = None
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(what, total=total, completed=start, base=start)

    def advance(self, description: str | None = None) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, **({"description": description} if description else {}))

    def set(self, done: int, total: int, description: str | None = None) -> None:
        """A counted bar at ``done`` of ``total`` (started on first call; rich estimates the time left
        from the rate of ``done``)."""
        if self._bar is None:
            return
        if self._task is None:
            self.count(total, description or "", start=done)
        self._bar.update(self._task, total=max(total, done), completed=done,
                         **({"description": description} if description else {}))

    def job(self, i: int, n: int, name: str) -> None:
        """The api's ``on_job`` hook: job ``i`` of ``n`` (1-based) named ``name`` is starting."""
        if self._bar is None:
            return
        if self._task is None:
            self.count(n, "jobs")
        self._bar.update(self._task, total=max(n, i), completed=i - 1, description=f"job {i}/{max(n, i)} {name}")
        err_console.print(f"[dim]{time.monotonic() - self._t0:6.1f}s job {i}/{max(n, i)}:[/dim] {name}",
                          highlight=False)

    def done(self) -> None:
        """Mark a counted bar complete (the last job finished)."""
        if self._bar is not None and self._task is not None:
            t = self._bar.tasks[-1]
            self._bar.update(self._task, completed=t.total)
