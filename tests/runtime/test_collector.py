"""The collector paused around bounded work: off inside, as it was found afterwards, errors too."""

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
