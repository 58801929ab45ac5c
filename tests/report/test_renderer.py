"""The renderer process forked at start-up: warmed in advance, one job, the same result as in-process."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from report.renderer import Renderer

_WARMED: list[int] = []


def _warm() -> None:
    _WARMED.append(os.getpid())


def _where(tag: str) -> tuple[int, list[int], str]:
    return os.getpid(), list(_WARMED), tag


def _fails_in_a_child(parent: int) -> str:
    if os.getpid() != parent:
        raise RuntimeError("not here")
    return "here"


def _always_fails() -> None:
    raise ValueError("a genuine error")


def test_the_job_runs_in_the_warmed_process() -> None:
    renderer = Renderer(_warm)
    try:
        pid, warmed, tag = renderer.call(_where, "x")
    finally:
        renderer.close()
    assert pid != os.getpid() and warmed == [pid] and tag == "x"
    assert renderer.delivered and renderer.pid is None  # one job only: the process is gone


def test_disabled_runs_the_job_here() -> None:
    renderer = Renderer(_warm, enabled=False)
    assert renderer.pid is None
    assert renderer.call(_where, "y")[0] == os.getpid()


def test_a_failed_job_is_run_again_here_and_said(caplog: pytest.LogCaptureFixture) -> None:
    renderer = Renderer(_warm)
    assert renderer.call(_fails_in_a_child, os.getpid()) == "here"
    assert not renderer.delivered
    assert "could not run _fails_in_a_child" in caplog.text and "RuntimeError: not here" in caplog.text


def test_a_genuine_error_is_raised_by_the_local_run() -> None:
    renderer = Renderer(_warm)
    with pytest.raises(ValueError, match="a genuine error"):
        renderer.call(_always_fails)


def test_a_process_that_died_while_warming_is_replaced() -> None:
    def die() -> None:
        os._exit(7)

    renderer = Renderer(die)
    assert renderer.call(_where, "z")[0] == os.getpid()


def test_close_stops_the_process_and_later_calls_run_here() -> None:
    renderer = Renderer(_warm)
    pid = renderer.pid
    renderer.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert renderer.call(_where, "w")[0] == os.getpid()


@pytest.mark.slow
def test_a_build_renders_the_same_bytes_with_or_without_the_renderer(tmp_path: Path, sample_dir: Path) -> None:
    from functools import partial

    from analysis.config import Config
    from report.build import build_report, warm_up_rendering

    outputs = {}
    for name in ("renderer", "in-process"):
        renderer = Renderer(partial(warm_up_rendering, "ru"), enabled=name == "renderer")
        try:
            outputs[name] = build_report(data_dir=sample_dir, out_dir=tmp_path / name, period="2026-10", lang="ru",
                                         config=Config(), renderer=renderer)
        finally:
            renderer.close()
        assert renderer.delivered == (name == "renderer")  # the renderer process did render
    for attr in ("pdf", "html", "scores"):
        digests = {hashlib.sha256(getattr(o, attr).read_bytes()).hexdigest() for o in outputs.values()}
        assert len(digests) == 1, attr
