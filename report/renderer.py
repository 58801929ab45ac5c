"""A renderer process forked at start-up and warmed while the analysis runs.

``build`` forks this process before the analysis imports anything heavy. The process warms up —
imports the rendering libraries (matplotlib, Jinja2, WeasyPrint) and compiles the templates:
about 1.5 s of CPU here — on a core the analysis' own imports leave idle at that moment, then
waits for one job — the function that draws the figures and writes the HTML and the PDF, with its
arguments — runs it and sends back its result. Before, that warm-up ran after the analysis, when
nothing could run beside it.

Whenever the process cannot deliver (no ``fork`` on the platform, it died, it failed, or the
caller never started it), :meth:`Renderer.call` runs the same function in the calling process,
so the outputs are the same either way; a genuine error is then raised by that local run.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar, cast

from analysis.parallel import fork_child, leave, receive, send, stop

T = TypeVar("T")
_log = logging.getLogger(__name__)

#: A job whose result has not arrived after this many seconds is run here instead.
JOB_TIMEOUT = 1800.0


class Renderer:
    """A forked process that warms up now and runs one job later.

    Parameters
    ----------
    warm : callable
        Run by the process as soon as it is forked (imports, caches); its result is discarded.
    enabled : bool
        ``False`` forks nothing: :meth:`call` then runs the job in the calling process.
    """

    def __init__(self, warm: Callable[[], object], *, enabled: bool = True) -> None:
        self.warm = warm
        #: Whether the process ran the job (``False`` until then, and when it was run here instead).
        self.delivered = False
        self.pid: int | None = None
        self._job_fd: int | None = None
        self._result_fd: int | None = None
        if not enabled:
            return
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        pid = fork_child()
        if pid is None:
            for fd in (job_read, job_write, result_read, result_write):
                os.close(fd)
            return
        if pid == 0:  # the renderer: warm up, run one job, leave without the parent's exit code
            os.close(job_write)
            os.close(result_read)
            code = 0
            try:
                self._serve(job_read, result_write)
            except BaseException:  # noqa: BLE001 - the parent runs the job itself
                code = 1
            finally:
                leave(code)
        os.close(job_read)
        os.close(result_write)
        self.pid, self._job_fd, self._result_fd = pid, job_write, result_read

    def _serve(self, job_fd: int, result_fd: int) -> None:
        self.warm()
        job = receive(job_fd)  # blocks until the job arrives, or the parent closes the pipe
        if job is None:
            return
        fn, args, kwargs = job
        del job
        try:
            reply = ("ok", fn(*args, **kwargs))
        except BaseException:  # noqa: BLE001 - reported; the parent reruns the job to raise the error itself
            reply = ("error", traceback.format_exc(limit=-3))
        send(result_fd, reply)

    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, run by the warmed process (or here when it cannot).

        ``fn`` must be picklable (a module-level function) and so must its arguments and result.
        The process runs one job only.
        """
        if self.pid is not None and self._job_fd is not None and self._result_fd is not None:
            try:
                send(self._job_fd, (fn, args, kwargs))
                os.close(self._job_fd)
                self._job_fd = None
                reply = receive(self._result_fd, deadline=time.monotonic() + JOB_TIMEOUT)
            except (OSError, pickle.PicklingError, TypeError, AttributeError):
                reply = None
            except BaseException:  # interrupted: the process must not go on writing into the caller's files
                self.close()
                raise
            self.close(kill=reply is None)
            status, result = reply if reply is not None else ("error", None)
            if status == "ok":
                self.delivered = True
                return cast(T, result)  # what fn returned, unpickled
            _log.warning("the renderer process could not run %s; running it here%s", getattr(fn, "__name__", fn),
                         f":\n{result}" if result else " (the process stopped)")
        return fn(*args, **kwargs)

    def close(self, *, kill: bool = True) -> None:
        """Stop the process (no-op when it is gone; ``kill=False`` waits for it to leave); a later
        :meth:`call` runs here."""
        if self.pid is not None:
            stop(self.pid, kill=kill)
        for fd in (self._job_fd, self._result_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.pid, self._job_fd, self._result_fd = None, None, None
