"""Progress of a long command (pumpdx batch): elapsed time, the recent rate, an ETA.

    progress = Progress(sys.stderr, total=10_000, live=sys.stderr.isatty(), every=10.0)
    progress.update(done, errors)   # after every line (cheap: draws at most 10 times a second)
    progress.close()

The rate is measured over the last `window` seconds (RateWindow), not since the start,
so it follows a batch that slows down or speeds up (workers starting, a cluster
losing a worker) and the ETA with it. On a terminal (`live`) one line is redrawn in
place; otherwise (cron, CI, a log file) a whole line is printed every `every` seconds,
and a ticker thread keeps printing while no line completes, so a stalled batch is
seen as stalled rather than silent. `clock` is injectable for tests.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

Clock = Callable[[], float]

#: Seconds of history behind the rate, and how finely it is sampled.
RATE_WINDOW_SECONDS = 10.0
SAMPLES_PER_WINDOW = 50
#: Seconds between progress lines when the output is not a terminal.
DEFAULT_EVERY_SECONDS = 10.0
#: A terminal line is redrawn at most this often.
REDRAW_SECONDS = 0.1


class RateWindow:
    """Items per second over the last `seconds` (a sliding window of samples).

    `add(now, done)` records the running count; `rate(now)` is the count added since
    the oldest sample still in the window, divided by the time since that sample. At
    most SAMPLES_PER_WINDOW samples are kept, whatever the number of items.
    """

    def __init__(self, seconds: float = RATE_WINDOW_SECONDS) -> None:
        if seconds <= 0:
            raise ValueError("the rate window must be longer than 0 s")
        self.seconds = seconds
        self._step = seconds / SAMPLES_PER_WINDOW
        self._samples: deque[tuple[float, int]] = deque()
        self._latest: tuple[float, int] | None = None

    def add(self, now: float, done: int) -> None:
        self._latest = (now, done)
        if not self._samples or now - self._samples[-1][0] >= self._step:
            self._samples.append((now, done))
        self._trim(now)

    def _trim(self, now: float) -> None:
        """Drop samples older than the window, keeping the newest of them as the start."""
        start = now - self.seconds
        while len(self._samples) > 1 and self._samples[1][0] <= start:
            self._samples.popleft()

    def rate(self, now: float) -> float | None:
        """Items per second over the window up to `now`; None before any time has passed."""
        if self._latest is None:
            return None
        self._trim(now)
        since, done_then = self._samples[0]
        # after a pause the oldest sample may be older than the window: measure over the
        # window alone (nothing was done between that sample and the window's start but
        # what an unsampled step holds)
        since = max(since, now - self.seconds)
        if now - since <= 0:
            return None
        return (self._latest[1] - done_then) / (now - since)


def eta_seconds(done: int, total: int | None, rate: float | None) -> float | None:
    """Seconds left at `rate`; None when the total or a positive rate is unknown."""
    if total is None or rate is None or rate <= 0:
        return None
    return max(total - done, 0) / rate


def clock_text(seconds: float | None) -> str:
    """1:02:03, 2:03 or 0:07; '--' for unknown."""
    if seconds is None:
        return "--"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class Progress:
    """A live line on a terminal, or a line every `every` seconds elsewhere."""

    BAR_WIDTH = 16

    def __init__(self, stream: TextIO, total: int | None, *, live: bool,
                 every: float = DEFAULT_EVERY_SECONDS, noun: str = "cases",
                 window: float = RATE_WINDOW_SECONDS, clock: Clock | None = None,
                 ticker: bool = True) -> None:
        if every <= 0:
            raise ValueError("the progress interval must be longer than 0 s")
        self.stream = stream
        self.total = total
        self.live = live
        self.every = every
        self.noun = noun
        self.clock: Clock = clock or time.monotonic
        self.started = self.clock()
        self.rates = RateWindow(window)
        self.rates.add(self.started, 0)
        self.done = 0
        self.errors = 0
        self._shown = self.started  # when a line was last drawn or printed
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if ticker:
            self._thread = threading.Thread(target=self._tick, name="pumpdx-progress",
                                            daemon=True)
            self._thread.start()

    def update(self, done: int, errors: int = 0) -> None:
        """Record the running counts; draw or print when it is time to."""
        with self._lock:
            now = self.clock()
            self.done, self.errors = done, errors
            self.rates.add(now, done)
            if now - self._shown >= (REDRAW_SECONDS if self.live else self.every):
                self._show(now)

    def _tick(self) -> None:
        """Keep the elapsed time (live) or the periodic lines going while nothing completes."""
        while not self._stop.wait(1.0 if self.live else self.every):
            with self._lock:
                now = self.clock()
                if now - self._shown >= (1.0 if self.live else self.every):
                    self._show(now)

    def line(self, now: float) -> str:
        """Counts, errors, elapsed time, the recent rate and the ETA at `now`.

        A live line is kept short (a bar, no window length) to fit 80 columns."""
        rate = self.rates.rate(now)
        if self.total:
            share = min(self.done / self.total, 1.0)
            count = f"{self.done}/{self.total} {self.noun} ({share:.0%})"
            if self.live:
                filled = int(share * self.BAR_WIDTH)
                count = (f"[{'#' * filled}{'.' * (self.BAR_WIDTH - filled)}] "
                         f"{self.done}/{self.total} ({share:.0%})")
        else:
            count = f"{self.done} {self.noun}"
        speed = "--" if rate is None else f"{rate:,.0f}"
        eta = clock_text(eta_seconds(self.done, self.total, rate))
        elapsed = clock_text(now - self.started)
        if self.live:
            return (f"{count}, {_count(self.errors, 'error')}, {elapsed} elapsed, "
                    f"{speed} {self.noun}/s, ETA {eta}")
        return (f"{count}, {_count(self.errors, 'error')}, elapsed {elapsed}, "
                f"{speed} {self.noun}/s (last {self.rates.seconds:g} s), ETA {eta}")

    def _show(self, now: float) -> None:
        self._shown = now
        text = self.line(now)
        if self.live:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write(f"\r{text[:width]}\x1b[K")  # clear what a longer line left
        else:
            self.stream.write(f"progress: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        """Stop the ticker; end the live line with the final counts."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self.live:
                self._show(self.clock())
                self.stream.write("\n")
                self.stream.flush()
