"""The build's worker processes: one :class:`concurrent.futures.ProcessPoolExecutor` for every stage.

Workers are forked by the standard library's *forkserver*, a fresh interpreter started once per
build with the given environment (``PYTHONHASHSEED`` fixed, BLAS/OpenMP pools pinned) that
imports the ``preload`` modules, with the garbage collector off (:mod:`runtime.collector_off`,
:mod:`runtime.collector_on`), before it forks anything. So a worker starts warm (nothing to
import), the process that forks is single-threaded (no OpenMP pool, no thread of the build's own
process is ever duplicated), and whatever depends on the hash seed (WeasyPrint's font subsets) is
reproducible without re-executing the command. Every task is an ordinary picklable call:

* its result comes back as it is, its exception too — raised where :meth:`Executor.result` is
  called, with the worker's traceback as its ``__cause__`` and a note naming the task;
* a worker that dies (killed, out of memory) breaks the pool: the pending results raise
  :class:`~concurrent.futures.process.BrokenProcessPool`;
* a task that does not finish within ``task_timeout`` seconds raises :class:`WorkerTimeout` and
  the workers are killed.

The workers are forked at the first submission, by a thread of the executor: forking the first
one waits for the forkserver's preload, and :meth:`Executor.submit` returns at once meanwhile
(what is submitted then is handed to the workers in order once they run; a task's timeout counts
from :meth:`Executor.result` and so includes that wait). An executor that is closed before its
first submission — a build that stops at bad input — forks no worker.

Nothing is ever recomputed elsewhere when a worker fails: the failure is the build's.
``Executor(workers=0)`` runs every task at once in the calling process (library use and tests).
There is one forkserver per process (the standard library's): the preload and the environment
of the executor that started it apply to every later one.

This module is shared by :mod:`analysis` and :mod:`report` and imports neither.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

__all__ = ["BrokenProcessPool", "Executor", "WorkerTimeout", "worker_environment"]

T = TypeVar("T")
R = TypeVar("R")


#: Imported by the forkserver before and after its ``preload``: no garbage collection while it
#: imports; then what it imported is frozen and the collector on again, in it and in every process it forks.
PRELOAD_FIRST, PRELOAD_LAST = "runtime.collector_off", "runtime.collector_on"


class WorkerTimeout(TimeoutError):
    """A worker task did not finish within the configured time; the workers were stopped."""


def worker_environment(*, hash_seed: int = 0, threads: int = 1) -> dict[str, str]:
    """The environment workers start with: a fixed hash seed, ``threads`` BLAS/OpenMP threads, and
    no background thread of the jemalloc that pyarrow (imported by pandas) and polars load — they
    would start them at import, and the forkserver must not run threads when it forks."""
    env = {"PYTHONHASHSEED": str(hash_seed), "JE_ARROW_MALLOC_CONF": "background_thread:false",
           "_RJEM_MALLOC_CONF": "background_thread:false"}  # polars' jemalloc
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    return env


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` updated with ``env`` for the enclosed block (the forkserver's start)."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _leave_with_parent() -> None:
    """In a worker: end when the build's process is gone (killed outright, so it could not stop its
    workers): ``multiprocessing.parent_process()`` is the process that started the worker."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
    os.kill(os.getpid(), signal.SIGKILL)


def _worker_started(pids: Any) -> None:
    """A worker's initializer: tell the build its pid (to stop it at once if needed) and watch the parent.

    What the forkserver preloaded (a few hundred thousand objects of the libraries) is moved to the
    collector's permanent generation (:func:`gc.freeze`): it lives as long as the worker, and every
    full collection that a task's allocations trigger would otherwise traverse it again (measured
    on the real data's PDF in a process with the build's preload: 2.7–2.85 s → 2.2–2.35 s of CPU).
    The forkserver froze its preload already and turned the collector on (:mod:`runtime.collector_on`);
    this freezes what came after, and turns it on should the preload have ended early.
    """
    gc.freeze()
    gc.enable()
    pids.put(os.getpid())
    threading.Thread(target=_leave_with_parent, daemon=True).start()


def _done(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Future[T]:
    future: Future[T] = Future()
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - delivered by Executor.result, as from a worker
        future.set_exception(exc)
    return future


def _noop() -> None:
    """A task that only makes the pool fork a worker."""


def _copy_outcome(target: Future[Any], source: Future[Any]) -> None:
    """Give ``target`` the outcome of ``source`` (a task submitted later on its behalf)."""
    if target.done():  # cancelled when the executor was closed
        return
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())


class Executor:
    """A pool of ``workers`` processes forked by a forkserver that preloaded ``preload``.

    Parameters
    ----------
    workers : int
        Worker processes; ``0`` runs every task in the calling process, at submission.
    task_timeout : float
        Seconds :meth:`result` waits for one task before it stops the workers and raises
        :class:`WorkerTimeout`.
    preload : sequence of str
        Modules the forkserver imports before forking the first worker (between
        :data:`PRELOAD_FIRST` and :data:`PRELOAD_LAST`).
    env : mapping of str to str, optional
        Environment variables the forkserver, hence every worker, starts with (default:
        :func:`worker_environment`).
    """

    def __init__(self, *, workers: int, task_timeout: float, preload: Sequence[str] = (),
                 env: Mapping[str, str] | None = None) -> None:
        self.workers = workers
        self.task_timeout = task_timeout
        self.inline = workers < 1  #: whether tasks run in the calling process
        self._pool: ProcessPoolExecutor | None = None
        self._pids: list[int] = []
        self._later: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        # tasks submitted before the workers run (they are forked at the first submission); ``None`` once they run
        self._starting: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]] | None = []
        self._starter: threading.Thread | None = None
        self._start_lock = threading.Lock()
        if self.inline:
            return
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([PRELOAD_FIRST, *preload, PRELOAD_LAST])
        with _environment(worker_environment() if env is None else env):
            # the server starts now (a new interpreter, this environment) and imports the preload
            # modules while the build goes on; every worker is forked from it
            multiprocessing.forkserver.ensure_running()
        self._pid_queue = context.SimpleQueue()
        self._pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_started,
                                         initargs=(self._pid_queue,))

    def _start_workers(self, pool: ProcessPoolExecutor) -> None:
        """Fork the workers, then hand them what was submitted meanwhile, in order (a thread of its own:
        forking the first worker waits for the forkserver's preload, a second or two, which the
        caller spends on its own work instead)."""
        error: BaseException | None = None
        try:
            for _ in range(self.workers):  # while no worker is idle, each submission forks one more
                pool.submit(_noop)
        except BaseException as exc:  # noqa: BLE001 - given to every task submitted meanwhile
            error = exc
        with self._start_lock:
            queued, self._starting = self._starting or [], None
            for placeholder, fn, args, kwargs in queued:
                if placeholder.done():  # cancelled by close()
                    continue
                try:
                    if error is not None:
                        raise error
                    pool.submit(fn, *args, **kwargs).add_done_callback(partial(_copy_outcome, placeholder))
                except BaseException as exc:  # noqa: BLE001 - delivered by Executor.result
                    placeholder.set_exception(exc)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` (``fn``, its arguments and result must pickle).

        Raises
        ------
        RuntimeError
            When the executor was closed (its workers stopped): nothing runs anywhere else.
        """
        if self.inline:
            return _done(fn, args, kwargs)
        pool = self._pool
        if pool is None:
            raise RuntimeError("the executor is closed: its workers were stopped")
        with self._start_lock:
            if self._starting is not None:  # the workers are not there yet: handed to them when they are
                placeholder: Future[T] = Future()
                self._starting.append((placeholder, fn, args, kwargs))
                if self._starter is None:  # the first task: fork the workers now (none for a build that fails before)
                    self._starter = threading.Thread(target=self._start_workers, args=(pool,),
                                                     name="executor-start", daemon=True)
                    self._starter.start()
                return placeholder
        return pool.submit(fn, *args, **kwargs)

    def submit_later(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Like :meth:`submit`, but queued behind every task submitted until the next :meth:`result`
        (work that fills the workers' idle time without delaying what the build waits for next)."""
        if self.inline:
            return _done(fn, args, kwargs)
        placeholder: Future[T] = Future()
        self._later.append((placeholder, fn, args, kwargs))
        return placeholder

    def _release(self) -> None:
        while self._later:
            placeholder, fn, args, kwargs = self._later.pop(0)
            self.submit(fn, *args, **kwargs).add_done_callback(partial(_copy_outcome, placeholder))

    def result(self, future: Future[T], *, name: str) -> T:
        """The result of ``future`` (task ``name``); its exception, the worker's traceback as the cause.

        Raises
        ------
        WorkerTimeout
            After ``task_timeout`` seconds; the workers are stopped.
        concurrent.futures.process.BrokenProcessPool
            When a worker died.
        """
        self._release()
        try:
            return future.result(timeout=self.task_timeout)
        except TimeoutError:
            if future.done():
                raise
            self.close(kill=True)
            raise WorkerTimeout(f"worker task {name!r} did not finish within {self.task_timeout:g} s "
                                f"(executor.task_timeout); the workers were stopped") from None
        except BaseException as exc:
            exc.add_note(f"in the worker task {name!r}")
            raise

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, name: str) -> list[R]:
        """``[fn(item) for item in items]``, the items shared by the workers (results in order)."""
        futures = [self.submit(fn, item) for item in items]
        return [self.result(f, name=name) for f in futures]

    def worker_pids(self) -> list[int]:
        """The process ids of the workers started so far."""
        while self._pool is not None and not self._pid_queue.empty():
            self._pids.append(self._pid_queue.get())
        return list(self._pids)

    def close(self, *, kill: bool = False) -> None:
        """Shut the pool down: wait for the workers to leave, or (``kill=True``) kill them now."""
        pool, self._pool = self._pool, None
        with self._start_lock:
            for placeholder, *_ in [*self._later, *(self._starting or [])]:
                placeholder.cancel()
            self._later.clear()
            starter = self._starter
            # no task handed to the workers yet: none to kill, and a worker still starting must be let
            # finish its start (killed then, it would print a traceback about the pool's semaphores)
            idle = self._starting is not None
        if pool is None:
            return
        if starter is not None:  # workers being forked: let the forking end (the preload, at most)
            starter.join()
        if kill and not idle:
            pool.shutdown(wait=False, cancel_futures=True)
            while not self._pid_queue.empty():
                self._pids.append(self._pid_queue.get())
            for pid in self._pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:  # already gone
                    pass
        pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(kill=exc_type is not None)
