"""A worker killed in the middle of a build: the build ends with a clear error and exit 1, and
``--out`` keeps the previous report, untouched (nothing is recomputed elsewhere)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _is_forkserver(process: psutil.Process) -> bool:
    try:
        return "multiprocessing.forkserver" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _threads(process: psutil.Process) -> int:
    try:
        return process.num_threads()
    except psutil.Error:
        return 0


def _workers(build: psutil.Process) -> list[psutil.Process]:
    """The build's pool workers: the forkserver's forks that run the thread each worker starts in its
    initializer to watch the build (not a helper the server's imports start, e.g. ``gcc`` for
    ``ctypes.util.find_library``, which has the server's command line and one thread until it execs)."""
    return [worker for server in build.children() if _is_forkserver(server)
            for worker in server.children() if _is_forkserver(worker) and _threads(worker) >= 2]


def test_killing_a_worker_fails_the_build_and_keeps_out(tmp_path: Path, sample_dir: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    previous = {"oneclick-report_2026-09_ru.pdf": b"%PDF-previous", "results.json": b"{}"}
    for name, data in previous.items():
        (out / name).write_bytes(data)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    build = subprocess.Popen([sys.executable, "-m", "report.cli", "build", "--data", str(sample_dir),
                              "--out", str(out), "--period", "2026-10", "--no-cache"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process = psutil.Process(build.pid)
    progress: list[str] = []
    reader = threading.Thread(target=lambda: progress.extend(iter(build.stderr.readline, "")), daemon=True)
    reader.start()
    killed = None
    deadline = time.monotonic() + 120
    while "model selection" not in "".join(progress) and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # the model's fits are given to the workers now
    while killed is None and build.poll() is None and time.monotonic() < deadline:
        for worker in _workers(process):  # a worker is there: the model's fits are being computed
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed = worker.pid
            break
        time.sleep(0.05)
    assert killed is not None, "no worker seen"
    stdout = build.stdout.read()
    build.wait(timeout=120)
    reader.join(timeout=10)
    stderr = "".join(progress)
    assert build.returncode == 1, stderr
    assert "a worker process died" in stderr and "wrote nothing" in stderr, stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]
    time.sleep(1.5)
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if str(out) in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []
