"""Forked stages: results as they are ready, the same results whether the child delivers or not."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from analysis.parallel import Forked


def test_child_results_arrive_stage_by_stage() -> None:
    parent = os.getpid()
    done: dict[str, object] = {}
    side = Forked([("first", lambda: os.getpid()),
                   ("second", lambda: (time.sleep(0.2), done["first"])[1])], results=done)
    first = side.get("first")  # does not wait for the second stage
    assert first != parent and side.pid is not None
    assert side.get("second") == first  # the child's own earlier result
    assert side.pid is None  # everything delivered: the child is reaped
    assert [t.stage for t in side.join()[1]] == ["first", "second"]
    assert all(t.concurrent for t in side.join()[1])


def test_a_failing_stage_is_redone_here_with_the_same_inputs(caplog: pytest.LogCaptureFixture) -> None:
    parent = os.getpid()
    done: dict[str, object] = {}

    def fragile() -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child cannot")
        return done["data"] * 2

    side = Forked([("data", lambda: 21), ("double", fragile)], results=done)
    results, timings = side.join()
    assert results == [21, 42]
    assert [t.concurrent for t in timings] == [True, False]
    assert "stage double failed in the forked worker" in caplog.text and "the child cannot" in caplog.text


def test_an_error_is_raised_by_the_main_process_own_run() -> None:
    side = Forked([("bad", lambda: 1 / 0)])
    with pytest.raises(ZeroDivisionError):
        side.get("bad")


def test_disabled_runs_nothing_until_asked() -> None:
    calls: list[str] = []
    side = Forked([("a", lambda: calls.append("a") or 1), ("b", lambda: calls.append("b") or 2)], enabled=False)
    assert side.pid is None and calls == []
    assert side.get("a") == 1 and calls == ["a"]  # only what was asked for, in order
    assert side.join()[0] == [1, 2] and calls == ["a", "b"]
    assert not any(t.concurrent for t in side.join()[1])


def test_results_larger_than_the_pipe_arrive_whole() -> None:
    big = Forked([("array", lambda: np.arange(3_000_000, dtype=np.int64))])  # 24 MB
    arr = big.get("array")
    assert arr.shape == (3_000_000,) and int(arr[-1]) == 2_999_999


def test_a_child_that_dies_is_replaced() -> None:
    parent = os.getpid()
    side = Forked([("value", lambda: os._exit(3) if os.getpid() != parent else "here")])
    assert side.get("value") == "here"


def test_unknown_stage_is_refused() -> None:
    side = Forked([("a", lambda: 1)], enabled=False)
    with pytest.raises(KeyError, match="no stage 'b'"):
        side.get("b")


def test_cancel_stops_the_child() -> None:
    side = Forked([("slow", lambda: time.sleep(30))])
    pid = side.pid
    side.cancel()
    assert side.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_workers_do_not_outlive_their_parent(tmp_path) -> None:  # noqa: ANN001
    import subprocess
    import sys

    code = ("import os, sys, time\n"
            "from analysis.parallel import Forked\n"
            "side = Forked([('slow', lambda: time.sleep(60))])\n"
            "print(side.pid, flush=True)\n"
            "os._exit(0)\n")  # the parent dies without cancelling its worker
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return  # dead, waiting to be reaped by whoever adopted it
        except (FileNotFoundError, ProcessLookupError):
            return
        time.sleep(0.05)
    os.kill(child, 9)
    raise AssertionError("the worker outlived its parent")


def test_invalid_input_found_by_the_child_is_raised_here_without_a_rerun(tmp_path) -> None:  # noqa: ANN001
    from analysis.errors import BadRow, DataError

    parent = os.getpid()
    marker = tmp_path / "ran-here"

    def validate() -> None:
        if os.getpid() == parent:
            marker.write_text("the parent validated again")
        raise DataError(file="money.csv", problem="values that are not numbers", expected="a number",
                        column="Прибыль", rows=(BadRow(line=3, id="215348", value="abc"),), n_rows=1)

    side = Forked([("load_validate_clean", validate), ("eda", lambda: 1)])
    with pytest.raises(DataError, match=r"money.csv, column «Прибыль».*line 3 \(id 215348\) value 'abc'"):
        side.get("load_validate_clean")
    assert not marker.exists() and side.pid is None


def test_data_errors_survive_pickling() -> None:
    import pickle

    from analysis.errors import BadRow, DataError

    error = DataError(file="a.csv", problem="p", expected="x", column="c", rows=(BadRow(line=3, id="1", value="v"),),
                      n_rows=4)
    again = pickle.loads(pickle.dumps(error))
    assert again == error and str(again) == str(error) and again.rows[0].value == "v"


def _square_slowly(x: int) -> tuple[int, int]:
    time.sleep(0.01)
    return x * x, os.getpid()


def test_map_shared_is_the_sequential_map_computed_by_both_processes() -> None:
    from analysis.parallel import map_shared

    out = map_shared(list(range(40)), _square_slowly)
    assert [v for v, _ in out] == [x * x for x in range(40)]
    assert len({pid for _, pid in out}) == 2  # both processes took items
    assert [v for v, _ in map_shared(list(range(5)), _square_slowly, enabled=False)] == [0, 1, 4, 9, 16]


def test_map_shared_recomputes_what_a_failing_worker_claimed() -> None:
    from analysis.parallel import map_shared

    parent = os.getpid()

    def fragile(x: int) -> int:
        if os.getpid() != parent and x >= 3:
            raise RuntimeError("the worker gives up")
        time.sleep(0.01)
        return -x

    calls: list[str] = []
    assert map_shared(list(range(12)), fragile, meanwhile=lambda: calls.append("meanwhile")) == [-x for x in range(12)]
    assert calls == ["meanwhile"]
