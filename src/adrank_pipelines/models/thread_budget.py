"""Torch's intra-op threads kept to the cores other processes leave free.

Torch's CPU kernels split their work among ``num_threads`` threads and wait for the slowest at every kernel.
When another busy process holds one of two cores, one of two training threads keeps being descheduled and
every kernel waits for it: an epoch beside one busy process ran 3.85x slower with 2 threads and 1.04x with 1
(benchmarks/results/contention_nice0.md). Every ``interval_seconds`` the budget reads how much CPU the rest of
the machine used since the last reading (all CPU time in /proc/stat less this process's own) and sets the
threads to at most the cores it left free, never fewer than 1 nor more than configured; where /proc/stat cannot
be read (not Linux) the configured count stays.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

PROC_STAT = Path("/proc/stat")


def machine_cpu_seconds() -> float | None:
    """CPU seconds every core has spent busy since boot (idle and iowait excluded); None without /proc/stat."""
    try:
        fields = PROC_STAT.read_text().splitlines()[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def threads_beside(configured: int, cores: int, others_busy_cores: float) -> int:
    """The threads for ``cores`` cores when other processes keep ``others_busy_cores`` of them busy: the cores
    left free (a core counts as taken once it is more than half busy), between 1 and ``configured``."""
    free = cores - math.floor(others_busy_cores + 0.5)
    return max(1, min(configured, free))


class ThreadBudget:
    """Call :meth:`update` often (every training batch); it reads the machine at most every ``interval_seconds``
    and resets torch's threads when the free cores changed (never, with ``adapt`` False)."""

    def __init__(
        self,
        configured: int,
        adapt: bool = True,
        interval_seconds: float = 2.0,
        machine_seconds: Callable[[], float | None] = machine_cpu_seconds,
        cores: int | None = None,
    ) -> None:
        self.configured, self.adapt = configured, adapt
        self.interval_seconds = interval_seconds
        self._machine_seconds = machine_seconds
        self._cores = cores or os.cpu_count() or 1
        self._last = self._reading()
        self.threads = configured
        torch.set_num_threads(configured)

    def _reading(self) -> tuple[float, float, float | None]:
        return time.monotonic(), time.process_time(), self._machine_seconds()

    def update(self) -> int:
        """The threads in use after this call."""
        now = time.monotonic()
        if not self.adapt or now - self._last[0] < self.interval_seconds:
            return self.threads
        reading = self._reading()
        (then, own_then, machine_then), (_, own_now, machine_now) = self._last, reading
        self._last = reading
        if machine_then is None or machine_now is None:
            return self.threads
        others = max(machine_now - machine_then - (own_now - own_then), 0.0) / (now - then)
        threads = threads_beside(self.configured, self._cores, others)
        if threads != self.threads:
            logger.info("other processes keep %.1f core(s) busy: %d torch thread(s) instead of %d", others, threads,
                        self.threads)  # fmt: skip
            torch.set_num_threads(threads)
            self.threads = threads
        return self.threads
