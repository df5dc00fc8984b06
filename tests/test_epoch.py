"""The CPU deadline in a bare wasmtime store: what counts as running time and what does not."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from wasmtime import Engine, Func, FuncType, Instance, Module, Store, Trap

from gpu_host import Limits
from gpu_host.engine import EngineSettings
from gpu_host.epoch import CpuDeadline, EpochTicker

# Calls the host's `block` once, then spins until the epoch deadline interrupts it.
SPIN_AFTER_CALL = """
(module
  (import "host" "block" (func $block))
  (func (export "run")
    call $block
    (loop $spin br $spin)))
"""


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = Engine(EngineSettings().config())
    ticker = EpochTicker(engine)
    ticker.start()
    yield engine
    ticker.stop()
    assert not ticker.running


def seconds_until_interrupted(engine: Engine, block: float, excluded: bool) -> float:
    store = Store(engine)
    deadline = CpuDeadline(Limits(cpu_seconds=1.0, startup_cpu_seconds=1.0))
    deadline.attach(store)

    def host_block() -> None:
        if excluded:
            with deadline.blocked():
                time.sleep(block)
        else:
            time.sleep(block)

    func = Func(store, FuncType([], []), host_block)
    run = Instance(store, Module(engine, SPIN_AFTER_CALL), [func]).exports(store)["run"]
    assert isinstance(run, Func)
    started = time.monotonic()
    with pytest.raises(Trap, match="interrupt"):
        run(store)
    return time.monotonic() - started


def test_a_blocked_host_call_does_not_count_but_renews_nothing(engine: Engine) -> None:
    # 1.5 s blocked inside `blocked()`, then the whole 1 s allowance is still there to spin.
    assert 2.4 <= seconds_until_interrupted(engine, 1.5, excluded=True) < 4.5


def test_other_host_calls_count_as_running(engine: Engine) -> None:
    # The same 1.5 s outside `blocked()` used the allowance up: interrupted as soon as wasm runs.
    assert 1.4 <= seconds_until_interrupted(engine, 1.5, excluded=False) < 2.3
