"""Notebook kernels that start reliably side by side, and a run that says so when one does not.

jupyter_client chooses a kernel's five TCP ports by binding port 0 and closing the socket; the
kernel binds them a moment later. Another kernel started in that moment can be handed the same
port, and one of the two dies with ``ZMQError: Address already in use`` before running a cell
(papermill#511, jupyter_client#154): with ``make -j`` one first build in a few failed so. Here a
kernel talks over Unix socket files in a folder of its own, made by ``mkdtemp``: no port is
chosen, so no two kernels can collide. Where Unix sockets do not exist (Windows) TCP stays.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from jupyter_client.manager import AsyncKernelManager

SOCKETS_WORK = os.name != "nt"


@contextmanager
def socket_kernel_manager() -> Iterator[type[AsyncKernelManager]]:
    """A kernel manager class (nbclient's ``kernel_manager_class``) whose kernels bind Unix
    sockets in a fresh private folder, removed afterwards; plain TCP where sockets do not exist."""
    if not SOCKETS_WORK:
        yield AsyncKernelManager
        return
    # a short folder: a Unix socket path must stay under ~100 characters
    with tempfile.TemporaryDirectory(prefix="hw1-kernel-", dir="/tmp" if os.path.isdir("/tmp") else None) as folder:

        class SocketKernelManager(AsyncKernelManager):
            def __init__(self, **kw):
                super().__init__(transport="ipc", ip=os.path.join(folder, "k"), **kw)

        yield SocketKernelManager


class KernelStartError(RuntimeError):
    """The kernel died while starting, twice: one line saying why, for the build log."""


def execute_with_one_retry(execute: Callable[..., object], say: Callable[[str], None]) -> None:
    """Call ``execute(kernel_manager_class=…, on_cell_start=…)`` (papermill's or nbclient's keyword
    arguments); if it fails before its first cell started, the kernel died while starting: say so
    in one line and start it once more. A failure after a cell started is the notebook's own and is
    raised at once, never retried (a retry would repeat its work and hide the error). A second
    failure to start raises KernelStartError."""
    for attempt in (1, 2):
        started: list[int] = []
        try:
            with socket_kernel_manager() as manager:
                execute(kernel_manager_class=manager,
                        on_cell_start=lambda cell, cell_index, seen=started: seen.append(cell_index))
            return
        except Exception as exc:
            if started:
                raise
            last = (str(exc).strip().splitlines() or [""])[-1][:200]
            why = f"{type(exc).__name__}: {last}"
            if attempt == 2:
                raise KernelStartError(f"the kernel died while starting, twice ({why})") from exc
            say(f"the kernel died while starting ({why}); starting it once more")
