"""Plain progress lines for long loops.

A line, not a widget: it reads the same in a terminal log (papermill --log-output), in the
notebook and in the PDF. Lines come at each 10 % of the work, and at least every 30 s so a
slow loop still shows life, plus one closing line. Inside one unit of work that can take minutes
(an epoch of thousands of minibatches), ``beat`` adds a line once 30 s passed without one, even
where the per-unit lines are off: half a minute of silence reads as a hang.
"""

import sys
import time

HEARTBEAT_SECONDS = 30.0  # the longest silence inside a unit of work (tests shorten it)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class Progress:
    def __init__(self, total: int, label: str = "", every_fraction: float = 0.1, every_seconds: float = 30.0,
                 enabled: bool = True, stream=None, heartbeat: bool = True):
        self.total = max(int(total), 1)
        self.label = label
        self.step = max(int(self.total * every_fraction), 1)
        self.every_seconds = every_seconds
        self.enabled = enabled
        self.heartbeat = heartbeat
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self._last_i = 0
        self._last_t = self.start

    def due(self, i: int) -> bool:
        """Whether update(i) would print: callers use it to skip work (a device sync) otherwise."""
        return self.enabled and (i - self._last_i >= self.step or time.perf_counter() - self._last_t >= self.every_seconds)

    def update(self, i: int, **metrics) -> None:
        if not self.due(i):
            return
        self._print(i, metrics)

    def beat(self, metrics) -> None:
        """Call often inside a unit of work: prints '<label>  still at <what>  <metrics>  <t>s' when
        HEARTBEAT_SECONDS passed since the last line. ``metrics()`` returns the fields to print and is
        called only then (it may read a value back from the device)."""
        now = time.perf_counter()
        if not self.heartbeat or now - self._last_t < HEARTBEAT_SECONDS:
            return
        self._last_t = now
        parts = [self.label] + [f"{k} {_fmt(v)}" for k, v in metrics().items() if v is not None]
        parts.append(f"{now - self.start:.1f}s")
        print("  ".join(p for p in parts if p), file=self.stream, flush=True)

    def done(self, i: int | None = None, **metrics) -> None:
        if self.enabled:
            self._print(self.total if i is None else i, metrics)

    def _print(self, i: int, metrics: dict) -> None:
        now = time.perf_counter()
        self._last_i, self._last_t = i, now
        parts = [f"{self.label}" if self.label else "", f"{i}/{self.total}"]
        parts += [f"{k} {_fmt(v)}" for k, v in metrics.items() if v is not None]
        parts.append(f"{now - self.start:.1f}s")
        print("  ".join(p for p in parts if p), file=self.stream, flush=True)
