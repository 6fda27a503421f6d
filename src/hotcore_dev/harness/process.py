"""The runtime process of one local execution environment: spawned, watched, measured, killed.

The process runs in its own session (so a kill also reaches anything it started),
with stdin closed and stdout+stderr appended to one log file, in the order written,
as Lambda gathers both into one log stream.

Exactly one thread reaps it: a watcher waits for the exit without reaping
(``waitid(WNOWAIT)``), then reaps it with ``wait4`` under the same lock ``kill`` takes,
so a kill never hits a recycled pid and the exit comes with the process's own
resource usage (CPU time, peak RSS). ``sample_usage`` reads the same figures from
``/proc`` while the process is still running (Linux; None elsewhere).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hotcore_dev.harness.errors import HarnessError

__all__ = ["ProcessUsage", "RuntimeProcess", "describe_exit", "sample_usage"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Every process not yet reaped, so that an interpreter exiting mid-test kills them.
_live: set[RuntimeProcess] = set()
_live_lock = threading.Lock()


@dataclass(frozen=True)
class ProcessUsage:
    """CPU time (user, system) in seconds and peak resident memory in KiB of one process."""

    cpu_user_s: float
    cpu_system_s: float
    max_rss_kib: int

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_system_s


def sample_usage(pid: int) -> ProcessUsage | None:
    """The running process's CPU time and peak RSS (VmHWM) so far; None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(b")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    peak = 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1])
            break
    return ProcessUsage(utime / _CLOCK_TICKS, stime / _CLOCK_TICKS, peak)


def describe_exit(returncode: int) -> str:
    """How Lambda words a runtime's exit: ``exit status 1``, ``signal: killed``."""
    if returncode < 0:
        name = signal.strsignal(-returncode) or f"signal {-returncode}"
        return f"signal: {name.lower()}"
    return f"exit status {returncode}"


class RuntimeProcess:
    """A runtime process; ``on_exit`` is called once, from the watcher thread, after reaping."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        on_exit: Callable[[RuntimeProcess], None],
    ) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self.returncode: int | None = None
        #: Whole-life usage from ``wait4`` once the process has exited.
        self.exit_usage: ProcessUsage | None = None
        self.exited_ns: int | None = None
        self.exited = threading.Event()
        self._on_exit = on_exit
        self._lock = threading.Lock()
        with open(log_path, "ab") as log:
            #: Just before the fork: the start of the cold start.
            self.started_ns = time.perf_counter_ns()
            try:
                self._popen = subprocess.Popen(
                    self.argv,
                    env=dict(env),
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                raise HarnessError(f"cannot start runtime {self.argv[0]!r}: {error}") from error
        self.pid = self._popen.pid
        with _live_lock:
            _live.add(self)
        self._watcher = threading.Thread(
            target=self._watch, name=f"lambda-runtime-{self.pid}", daemon=True
        )
        self._watcher.start()

    @property
    def alive(self) -> bool:
        return not self.exited.is_set()

    def sample_usage(self) -> ProcessUsage | None:
        """CPU time and peak RSS so far (None once exited, or without /proc)."""
        return None if self.exited.is_set() else sample_usage(self.pid)

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def read_log(self, start: int = 0, end: int | None = None) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(start)
                data = log.read() if end is None else log.read(max(0, end - start))
        except OSError:
            return ""
        return data.decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL the process and its session; a no-op once it has exited."""
        with self._lock:
            if self.exited.is_set():
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> bool:
        """Kill and wait until reaped; False if it could not be reaped in ``timeout``."""
        self.kill()
        return self.exited.wait(timeout)

    def _watch(self) -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        with self._lock:
            try:
                _, status, rusage = os.wait4(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
                # ru_maxrss is in KiB on Linux.
                self.exit_usage = ProcessUsage(rusage.ru_utime, rusage.ru_stime, rusage.ru_maxrss)
            except ChildProcessError:
                self.returncode = self._popen.returncode if self._popen.returncode else -1
            self.exited_ns = time.perf_counter_ns()
            # Popen must not try to reap the pid again (it may belong to someone else by now).
            self._popen.returncode = self.returncode
            self.exited.set()
        with _live_lock:
            _live.discard(self)
        self._on_exit(self)


@atexit.register
def _kill_leftovers() -> None:
    with _live_lock:
        leftovers = list(_live)
    for process in leftovers:
        process.kill()
