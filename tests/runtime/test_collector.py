"""The collector paused around bounded work (off inside, as it was found afterwards, errors too),
and what is alive frozen out of its way inside a block, unless a caller froze something already."""

from __future__ import annotations

import gc

import pytest

from runtime import collector


def test_no_automatic_collection_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_when_the_work_fails() -> None:
    with pytest.raises(RuntimeError, match="layout failed"), collector.paused():
        raise RuntimeError("layout failed")
    assert gc.isenabled()


def test_a_collector_found_off_stays_off() -> None:
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_frozen_keeps_what_is_alive_out_of_the_way_only_inside() -> None:
    assert gc.get_freeze_count() == 0
    kept = [[] for _ in range(100)]
    with collector.frozen():
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_freeze_count() == 0


def test_frozen_leaves_a_callers_freeze_alone() -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with collector.frozen():
            assert gc.get_freeze_count() == before
        assert gc.get_freeze_count() == before  # not released by the block's end
    finally:
        gc.unfreeze()
