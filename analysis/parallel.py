"""Run independent stages in a forked worker while the main process goes on.

A stage that does not depend on the next one (EDA and correlations do not depend on the model;
permutation importance does not depend on the SHAP values) is computed in a child made by
``fork``: it inherits the data, so nothing is copied or pickled but its (small) result. The child
times itself; its timings are marked ``concurrent``. When forking is not possible, not wanted
(``n_jobs == 1``) or the child fails in any way, the stage simply runs in the main process when
its result is asked for, so the results are the same either way.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import sys
import time
from collections.abc import Callable
from typing import Any

from analysis.results import StageTiming

#: A child that has not answered after this many seconds is killed and its work redone here.
CHILD_TIMEOUT = 600.0


def _can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "darwin"


class Forked:
    """Stages ``[(name, fn), …]`` run in order in a forked child; :meth:`join` returns their results.

    Parameters
    ----------
    stages : list of (name, callable)
        Each callable takes no argument and returns a picklable result.
    enabled : bool
        ``False`` runs nothing in a child: :meth:`join` then computes the stages itself.
    """

    def __init__(self, stages: list[tuple[str, Callable[[], Any]]], *, enabled: bool = True) -> None:
        self.stages = stages
        self.pid: int | None = None
        self.fd: int | None = None
        if not (enabled and _can_fork()):
            return
        read_fd, write_fd = os.pipe()
        try:
            for stream in (sys.stdout, sys.stderr):  # nothing buffered twice
                if stream is not None:
                    stream.flush()
            pid = os.fork()
        except (OSError, ValueError):
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: compute, send, leave without running any of the parent's exit code
            os.close(read_fd)
            try:
                payload = pickle.dumps(("ok", *self._run(concurrent=True)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001 - any failure: the parent redoes the work itself
                payload = pickle.dumps(("error", None, None))
            try:
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(payload)
            finally:
                os._exit(0)
        os.close(write_fd)
        self.pid, self.fd = pid, read_fd

    def _run(self, *, concurrent: bool) -> tuple[list[Any], list[StageTiming]]:
        results, timings = [], []
        for name, fn in self.stages:
            wall, cpu = time.perf_counter(), time.process_time()
            results.append(fn())
            timings.append(StageTiming(
                stage=name, wall_seconds=round(time.perf_counter() - wall, 3),
                cpu_seconds=round(time.process_time() - cpu, 3),
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                concurrent=concurrent))
        return results, timings

    def _receive(self) -> tuple[list[Any], list[StageTiming]] | None:
        assert self.fd is not None and self.pid is not None
        chunks = []
        deadline = time.monotonic() + CHILD_TIMEOUT
        try:
            while True:
                ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    os.kill(self.pid, 9)
                    return None
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(self.fd)
            self.fd = None
            os.waitpid(self.pid, 0)
        try:
            status, results, timings = pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - a child that died mid-write
            return None
        return (results, timings) if status == "ok" else None

    def cancel(self) -> None:
        """Stop a child whose result is no longer wanted (after an error here); no-op after :meth:`join`."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        if self.fd is not None:
            os.close(self.fd)
        self.pid, self.fd = None, None

    def join(self) -> tuple[list[Any], list[StageTiming]]:
        """The stages' results and timings (computed here when the child could not deliver)."""
        if self.pid is not None:
            received = self._receive()
            self.pid = None
            if received is not None:
                return received
        return self._run(concurrent=False)
