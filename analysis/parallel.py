"""Run independent stages in a forked worker while the main process goes on.

A stage that does not depend on what the main process does next (loading and validating the data
do not depend on the modelling libraries being imported; EDA and correlations do not depend on
the model; permutation importance does not depend on the SHAP values) is computed in a child made
by ``fork``: it inherits everything computed so far, so nothing is copied or pickled but its
result. The child runs its stages in order and sends each result as soon as it is ready, so the
main process can take the first one (:meth:`Forked.get`) while the child goes on with the next.
The child times itself; its timings are marked ``concurrent``. When forking is not possible, not
wanted (``enabled=False``) or the child fails in any way, the stages it did not deliver simply run
in the main process when their results are asked for, so the results are the same either way (an
error in a stage is then raised here, by the main process' own run of it). Invalid input
(:class:`~analysis.errors.DataError`) found by the child is raised here as it is, without a rerun.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import select
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from analysis.errors import DataError
from analysis.results import StageTiming

_log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

#: A child that has not delivered its next stage after this many seconds is killed and the work redone here.
CHILD_TIMEOUT = 600.0
_HEADER = struct.Struct("!Q")  # the byte length of each message that follows
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _widen(fd: int) -> None:
    """Give the pipe the largest buffer allowed (Linux: 1 MiB by default instead of 64 KiB).

    The child writes each result as soon as it is ready; a result that does not fit in the pipe
    blocks the child until this process reads it, and this process may be busy for a while (the
    prepared data of the published set did not fit in 64 KiB: the child then waited 0.8 s for the
    main process to finish its imports).
    """
    try:
        import fcntl  # POSIX only; F_SETPIPE_SZ is Linux's

        size = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError, ValueError):
        pass


def die_with_parent(parent: int) -> None:
    """In a child forked by process ``parent``: be killed when the parent dies (Linux), so no worker
    outlives a build that was interrupted or killed; a child whose parent is already gone leaves."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pipes' end-of-file still stops the children
        pass
    if os.getppid() != parent:
        os._exit(1)


def _can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "darwin"


def fork_child() -> int | None:
    """``os.fork()`` after flushing the standard streams (nothing is buffered twice); in the child
    (0 returned) its life is tied to the parent's. ``None`` when this platform cannot fork or the
    fork failed: the caller then does the work itself."""
    if not _can_fork():
        return None
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:
        die_with_parent(parent)
    return pid


def leave(code: int = 0) -> NoReturn:
    """End a forked child (or a finished build) at once: flush the standard streams and exit without
    running the interpreter's teardown or any exit code inherited from the parent."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


def stop(pid: int, *, kill: bool = True) -> None:
    """Reap child ``pid`` (after killing it unless ``kill=False``); a child already gone is fine."""
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def send(fd: int, obj: object) -> None:
    """Write ``obj`` to pipe ``fd`` as one message: its pickle's byte length, then the pickle."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(fd, _HEADER.pack(len(data)))
    _write_all(fd, data)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, *, deadline: float | None = None) -> Any:
    """The next message :func:`send` wrote to pipe ``fd``; ``None`` when the writer closed the pipe
    (finished or died), the ``deadline`` (a :func:`time.monotonic` value) passed, or the message
    cannot be read."""
    header = _read_exactly(fd, _HEADER.size, deadline)
    payload = None if header is None else _read_exactly(fd, _HEADER.unpack(header)[0], deadline)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - a message that cannot be read counts as none
        return None


class Forked:
    """Stages ``[(name, fn), …]`` run in order in a forked child; :meth:`get` and :meth:`join` return results.

    Parameters
    ----------
    stages : list of (name, callable)
        Each callable takes no argument and returns a picklable result. A later stage may read an
        earlier one's result from ``results``.
    enabled : bool
        ``False`` runs nothing in a child: the stages are then computed here when asked for.
    results : dict, optional
        Filled with each stage's result under its name as it becomes available (in the child as
        the child computes them; here as they arrive or are computed here).
    """

    def __init__(self, stages: list[tuple[str, Callable[[], Any]]], *, enabled: bool = True,
                 results: dict[str, Any] | None = None) -> None:
        self.stages = stages
        self.results: dict[str, Any] = {} if results is None else results
        self.timings: dict[str, StageTiming] = {}
        self.pid: int | None = None
        self.fd: int | None = None
        if not enabled:
            return
        read_fd, write_fd = os.pipe()
        _widen(write_fd)
        pid = fork_child()
        if pid is None:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: compute, send, leave without running any of the parent's exit code
            os.close(read_fd)
            try:
                for name, fn in self.stages:
                    try:
                        send(write_fd, ("ok", name, *self._run_one(name, fn, concurrent=True)))
                    except DataError as exc:  # invalid input: handed over as it is, raised by the parent
                        send(write_fd, ("invalid", name, None, exc))
                        break
                    except BaseException:  # noqa: BLE001 - any other failure: the parent redoes the work
                        send(write_fd, ("error", name, traceback.format_exc(limit=-3), None))
                        break
            finally:
                leave(0)
        os.close(write_fd)
        self.pid, self.fd = pid, read_fd

    def _run_one(self, name: str, fn: Callable[[], Any], *, concurrent: bool) -> tuple[Any, StageTiming]:
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        self.results[name] = result
        timing = StageTiming(
            stage=name, wall_seconds=round(time.perf_counter() - wall, 3),
            cpu_seconds=round(time.process_time() - cpu, 3),
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            concurrent=concurrent)
        return result, timing

    def get(self, name: str) -> Any:
        """The result of stage ``name``: the child's, or computed here if the child could not deliver it."""
        names = [n for n, _ in self.stages]
        if name not in names:
            raise KeyError(f"no stage {name!r} (stages: {', '.join(names)})")
        while name not in self.results and self.pid is not None and self.fd is not None:  # set together
            message = receive(self.fd, deadline=time.monotonic() + CHILD_TIMEOUT)
            if message is not None and message[0] == "invalid":
                self.cancel()
                raise message[3]
            if message is None or message[0] != "ok":
                if message is None:
                    _log.warning("the forked worker of %s stopped without a result; computing it here", name)
                else:
                    _log.warning("stage %s failed in the forked worker; computing it here:\n%s",
                                 message[1], message[2])
                self.cancel()
                break
            _, done, result, timing = message
            self.results[done], self.timings[done] = result, timing
        for stage, fn in self.stages[:names.index(name) + 1]:  # whatever the child did not deliver, in order
            if stage not in self.results:
                _, self.timings[stage] = self._run_one(stage, fn, concurrent=False)
        if self.pid is not None and len(self.results) == len(self.stages):
            self.cancel()  # everything delivered: reap the child
        return self.results[name]

    def cancel(self) -> None:
        """Stop the child (no-op when it is gone): its remaining stages will be computed here if asked for."""
        if self.pid is not None:
            stop(self.pid)
        if self.fd is not None:
            os.close(self.fd)
        self.pid, self.fd = None, None

    def join(self) -> tuple[list[Any], list[StageTiming]]:
        """Every stage's result and timing, in stage order."""
        results = [self.get(name) for name, _ in self.stages]
        return results, [self.timings[name] for name, _ in self.stages]


def map_shared(items: Sequence[T], fn: Callable[[T], R], *, enabled: bool = True,
               meanwhile: Callable[[], object] | None = None) -> list[R]:
    """``[fn(item) for item in items]``, computed by this process and a forked worker together.

    Both processes take the next item from a counter in shared memory until none is left, so the
    work balances itself whatever each item costs and whatever else competes for a core. The
    worker sends back what it computed; an item it claimed but did not deliver (it failed or died)
    is computed here. Each ``fn(item)`` must not depend on which process computes it: the result
    is then the sequential one.

    Parameters
    ----------
    items : sequence
        The inputs, in order.
    fn : callable
        Computes one item's result (picklable).
    enabled : bool
        ``False`` computes everything here, in order.
    meanwhile : callable, optional
        Called here once the worker is started, before this process takes any item (work that
        would otherwise leave a core idle).
    """
    if not (enabled and _can_fork()) or len(items) < 2:
        if meanwhile is not None:
            meanwhile()
        return [fn(item) for item in items]
    import multiprocessing

    counter = multiprocessing.get_context("fork").Value("i", 0)  # shared memory, inherited by the fork

    def claimed() -> Iterator[int]:
        while True:
            with counter.get_lock():
                index = counter.value
                counter.value += 1
            if index >= len(items):
                return
            yield index

    def compute(indices: Iterable[int]) -> dict[int, R]:
        return {i: fn(items[i]) for i in indices}

    worker = Forked([("shared", lambda: compute(claimed()))])
    try:
        if meanwhile is not None:
            meanwhile()
        done = compute(claimed())
        theirs = worker.get("shared")  # {} when it failed: the counter is spent by then
    finally:
        worker.cancel()
    done.update(theirs)
    done.update(compute(i for i in range(len(items)) if i not in done))  # claimed but never delivered
    return [done[i] for i in range(len(items))]
