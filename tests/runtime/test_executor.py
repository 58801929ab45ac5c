"""The build's executor: results and exceptions as from a call, a dead worker breaks the pool, a hung
task times out and its workers are killed, workers start with the configured environment from a
single-threaded forkserver, and an inline executor gives the same results in the calling process."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from runtime.executor import Executor, WorkerTimeout, worker_environment


def _square(x: int) -> int:
    return x * x


def _where() -> tuple[int, str | None, str | None, int]:
    return os.getpid(), os.environ.get("PYTHONHASHSEED"), os.environ.get("OMP_NUM_THREADS"), hash("oneclick")


def _fails(message: str) -> None:
    raise ValueError(message)


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _threads_of_parent() -> str:
    """Names of the threads of the process that forked this worker (the forkserver), from /proc,
    its main thread first."""
    tasks = sorted(Path(f"/proc/{os.getppid()}/task").iterdir(), key=lambda p: int(p.name))
    return ",".join((task / "comm").read_text().strip() for task in tasks)


@pytest.fixture
def executor():  # noqa: ANN201
    ex = Executor(workers=2, task_timeout=60, preload=("json",), env=worker_environment(hash_seed=0, threads=1))
    yield ex
    ex.close(kill=True)


def test_map_returns_the_results_in_order(executor: Executor) -> None:
    assert executor.map(_square, range(20), name="squares") == [x * x for x in range(20)]


def test_workers_start_with_the_fixed_hash_seed_and_pinned_pools(executor: Executor) -> None:
    pid, seed, omp, h = executor.result(executor.submit(_where), name="where")
    assert pid != os.getpid() and seed == "0" and omp == "1"
    # the hash of a string is the same in every worker: the seed was there when they started
    again = Executor(workers=1, task_timeout=60)
    try:
        assert again.result(again.submit(_where), name="where")[3] == h
    finally:
        again.close()


def test_the_forkserver_is_single_threaded_when_it_forks(tmp_path: Path) -> None:
    """With everything the build's workers preload imported (pandas' pyarrow, scikit-learn,
    matplotlib, WeasyPrint …), the forkserver still runs one thread: no thread is duplicated."""
    import subprocess
    import sys

    script = tmp_path / "threads.py"
    script.write_text(
        "from analysis.config import Config\n"
        "from report.build import start_executor\n"
        "from tests.runtime.test_executor import _threads_of_parent\n"
        "if __name__ == '__main__':\n"
        "    with start_executor(Config()) as ex:\n"
        "        print(ex.result(ex.submit(_threads_of_parent), name='threads'))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONPATH": "."})
    assert out.returncode == 0, out.stderr
    # the main thread only: the preload imports no polars (whose import starts threads), and the
    # jemalloc background threads of pyarrow are off (worker_environment)
    threads = out.stdout.strip().splitlines()[-1].split(",")
    assert threads[1:] == [], threads


def test_a_task_error_is_raised_with_the_worker_traceback(executor: Executor) -> None:
    with pytest.raises(ValueError, match="bad input 7") as info:
        executor.result(executor.submit(_fails, "bad input 7"), name="check")
    assert "in the worker task 'check'" in info.value.__notes__
    assert 'raise ValueError(message)' in str(info.value.__cause__)  # the worker's own traceback


def test_a_dead_worker_breaks_the_pool(executor: Executor) -> None:
    with pytest.raises(BrokenProcessPool) as info:
        executor.result(executor.submit(_die), name="die")
    assert "in the worker task 'die'" in info.value.__notes__
    with pytest.raises(BrokenProcessPool):  # nothing more runs: no task is silently redone
        executor.submit(_square, 2)


def test_a_hung_task_times_out_and_its_workers_are_killed() -> None:
    executor = Executor(workers=1, task_timeout=1.0)
    pid = executor.result(executor.submit(os.getpid), name="pid")
    start = time.perf_counter()
    with pytest.raises(WorkerTimeout, match=r"'hang' did not finish within 1 s"):
        executor.result(executor.submit(_sleep, 60), name="hang")
    assert time.perf_counter() - start < 20
    def alive() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.perf_counter() + 5
    while alive() and time.perf_counter() < deadline:  # reaped by the forkserver soon after the kill
        time.sleep(0.05)
    assert not alive()


def test_inline_executor_runs_here() -> None:
    inline = Executor(workers=0, task_timeout=1)
    assert inline.inline
    assert inline.map(_square, range(3), name="squares") == [0, 1, 4]
    assert inline.result(inline.submit(_where), name="where")[0] == os.getpid()
    with pytest.raises(ValueError, match="here"):
        inline.result(inline.submit(_fails, "here"), name="fails")


def test_no_worker_outlives_a_killed_build(tmp_path: Path) -> None:
    """The build's process killed outright (SIGKILL: nothing of it runs): its workers leave too."""
    import subprocess
    import sys

    script = tmp_path / "build.py"
    script.write_text(
        "import os, sys, time\n"
        "from runtime.executor import Executor\n"
        "if __name__ == '__main__':\n"
        "    ex = Executor(workers=2, task_timeout=60)\n"
        "    futures = [ex.submit(time.sleep, 60) for _ in range(2)]\n"
        "    time.sleep(1.0)\n"
        "    print(' '.join(str(p) for p in ex.worker_pids()), flush=True)\n"
        "    time.sleep(60)\n")
    build = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    pids = [int(p) for p in build.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    build.kill()
    build.wait()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except FileNotFoundError:
        return False


def test_a_closed_executor_runs_nothing_elsewhere() -> None:
    executor = Executor(workers=1, task_timeout=10)
    executor.close(kill=True)
    with pytest.raises(RuntimeError, match="closed"):
        executor.submit(_square, 3)


def test_submit_later_queues_behind_what_is_waited_for_next() -> None:
    executor = Executor(workers=1, task_timeout=30)
    try:
        later = executor.submit_later(_sleep_then_time, 0.0)
        first = executor.submit(_sleep_then_time, 0.3)
        assert not later.done()
        started_first = executor.result(first, name="first")
        assert executor.result(later, name="later") > started_first  # ran after it
        failing = executor.submit_later(_fails, "later failure")
        with pytest.raises(ValueError, match="later failure"):
            executor.result(failing, name="failing")
    finally:
        executor.close(kill=True)


def _sleep_then_time(seconds: float) -> float:
    time.sleep(seconds)
    return time.monotonic()


def test_submit_does_not_wait_for_the_forkserver_preload(tmp_path: Path) -> None:
    """The forkserver imports its preload before it forks a worker (1–2 s for the build's): the
    caller's submissions return meanwhile, and the tasks then run, in submission order, in a worker.
    The preload here waits for a file that the caller creates only after its submissions returned."""
    import subprocess
    import sys

    gate = tmp_path / "gate"
    (tmp_path / "gated_preload.py").write_text(
        "import os, time\n"
        "deadline = time.monotonic() + 60\n"
        "while not os.path.exists(os.environ['GATE']) and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "OPENED_BY_THE_CALLER = os.path.exists(os.environ['GATE'])\n")
    script = tmp_path / "start.py"
    script.write_text(
        "import os, sys\n"
        "from pathlib import Path\n"
        "from runtime.executor import Executor, worker_environment\n"
        "from tests.runtime.test_executor import _opened, _sleep_then_time\n"
        "if __name__ == '__main__':\n"
        "    env = {**worker_environment(), 'GATE': sys.argv[1]}\n"
        "    with Executor(workers=1, task_timeout=120, preload=('gated_preload',), env=env) as ex:\n"
        "        futures = [ex.submit(_sleep_then_time, 0.0) for _ in range(3)]\n"
        "        opened = ex.submit(_opened)\n"
        "        Path(sys.argv[1]).write_text('')  # reached only if every submit returned before the preload ended\n"
        "        ran = [ex.result(f, name='task') for f in futures]\n"
        "        print(ran == sorted(ran), ex.result(opened, name='opened'))\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(script), str(gate)], capture_output=True, text=True, timeout=300,
                         cwd=root, env={**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{tmp_path}"})
    assert out.returncode == 0, out.stderr
    # one worker runs them one by one: in the order they were handed over
    assert out.stdout.split() == ["True", "True"], out.stdout


def _opened() -> bool:
    import gated_preload  # type: ignore[import-not-found]  # preloaded by the forkserver of the test above

    return bool(gated_preload.OPENED_BY_THE_CALLER)


def test_the_preload_runs_with_the_collector_off_and_every_child_collects(tmp_path: Path) -> None:
    """The recipe of :func:`gc.freeze` for a process that forks without exec: no collection while
    the forkserver imports its preload (the growing heap would be traversed again and again); then
    the preload is frozen and the collector on, so that any process the forkserver forks (the
    executor's workers, and another pool's on the same forkserver) collects, the preloaded objects
    out of its way."""
    import subprocess
    import sys

    (tmp_path / "gc_probe.py").write_text("import gc\nENABLED_AT_IMPORT = gc.isenabled()\n")
    script = tmp_path / "probe.py"
    script.write_text(
        "import multiprocessing\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from runtime.executor import Executor, worker_environment\n"
        "from tests.runtime.test_executor import _collector_state\n"
        "if __name__ == '__main__':\n"
        "    with Executor(workers=1, task_timeout=120, preload=('gc_probe',), env=worker_environment()) as ex:\n"
        "        print(*ex.result(ex.submit(_collector_state), name='probe'))\n"
        "        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('forkserver')) as other:\n"
        "            print(*other.submit(_collector_state).result())\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         cwd=root, env={**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{tmp_path}"})
    assert out.returncode == 0, out.stderr
    # off while the preload was imported; on in the executor's worker and in the other pool's,
    # the preloaded objects frozen in both
    assert out.stdout.split("\n")[:2] == ["False True True", "False True True"], out.stdout


def _collector_state() -> tuple[bool, bool, bool]:
    import gc

    import gc_probe  # type: ignore[import-not-found]  # preloaded by the forkserver of the test above

    return bool(gc_probe.ENABLED_AT_IMPORT), gc.isenabled(), gc.get_freeze_count() > 0


def test_an_executor_closed_before_its_first_task_forks_no_worker() -> None:
    import multiprocessing

    executor = Executor(workers=2, task_timeout=10)
    executor.close(kill=True)
    assert multiprocessing.active_children() == [] and executor.worker_pids() == []


def test_closing_while_the_workers_start_cancels_what_was_queued() -> None:
    executor = Executor(workers=1, task_timeout=30)
    queued = executor.submit(_sleep_then_time, 0.0)  # the workers are forked now, by the executor's thread
    executor.close(kill=True)  # waits for that forking, then stops them
    assert queued.cancelled() or queued.done()
    with pytest.raises(RuntimeError, match="closed"):
        executor.submit(_square, 2)
