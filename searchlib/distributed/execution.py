"""Where a sharded index's per-shard work runs: on a Dask cluster (:class:`DaskRunner`,
the workers of a ``dask.distributed`` client), or in this process (:class:`InlineRunner`,
for ``searchlib query`` and for tests, which need no cluster to check the merge).

Both run the same module-level task functions with the same arguments and return one
:class:`Outcome` per shard, so the build and the search never depend on where they ran.
A task's exception comes back as its type name and message rather than as the object
(an exception with its own constructor arguments does not survive pickling between
processes), and a task that has not finished within the timeout is reported as such.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: What a runner that runs in this process calls its one worker.
INLINE = "inline"


@dataclass(frozen=True)
class Call:
    """One shard's task: ``function(*args)``, on ``worker`` if given (the worker that
    ran an earlier task of this shard and holds its state, as a build's open writer)."""

    shard: int
    function: Callable[..., Any]
    args: tuple[Any, ...]
    worker: str | None = None


@dataclass
class Outcome:
    """What one shard's task gave: its value, or the error (``error_type`` and
    ``message``), or that it did not finish in time."""

    shard: int
    value: Any = None
    error_type: str | None = None
    message: str | None = None
    timed_out: bool = False
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_type is None and not self.timed_out

    def describe(self) -> str:
        """What went wrong, for an error message."""
        if self.timed_out:
            return "did not answer in time"
        return f"{self.error_type}: {self.message}"


def _guarded(function: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """Run a task, turning its exception into (type name, message)."""
    try:
        return True, function(*args)
    except Exception as exc:  # noqa: BLE001  # every failure is reported with its shard
        return False, (type(exc).__name__, str(exc))


def _on_worker(function: Callable[..., Any], *args: Any) -> tuple[str, bool, Any]:
    """A task as a Dask worker runs it: also says which worker it ran on."""
    from importlib import import_module

    ok, value = _guarded(function, *args)
    address: str = import_module("distributed").get_worker().address
    return address, ok, value


def _outcome(shard: int, worker: str | None, ok: bool, value: Any) -> Outcome:
    if ok:
        return Outcome(shard, value, worker=worker)
    error_type, message = value
    return Outcome(shard, error_type=error_type, message=message, worker=worker)


class InlineRunner:
    """Runs the shards' tasks in this process, on ``threads`` threads (the compiled core
    releases the GIL while it searches or inverts, so threads overlap). The threads are
    started once and kept until :meth:`close`: starting them for every step of every
    query cost more than the step itself."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = max(1, threads)
        self._pool: Any = None

    def run(self, calls: Sequence[Call], timeout: float | None = None) -> list[Outcome]:
        if self.threads == 1 or len(calls) <= 1:
            return [_outcome(call.shard, INLINE, *_guarded(call.function, *call.args)) for call in calls]
        from concurrent.futures import TimeoutError as FutureTimeout

        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.threads, "searchlib-shard")
        # The first call runs here, the others on the pool: one thread fewer to wait for.
        futures = [self._pool.submit(_guarded, call.function, *call.args) for call in calls[1:]]
        outcomes = [_outcome(calls[0].shard, INLINE, *_guarded(calls[0].function, *calls[0].args))]
        for call, future in zip(calls[1:], futures):
            try:
                outcomes.append(_outcome(call.shard, INLINE, *future.result(timeout)))
            except FutureTimeout:
                future.cancel()
                outcomes.append(Outcome(call.shard, timed_out=True, worker=INLINE))
        return outcomes

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class DaskRunner:
    """Runs the shards' tasks on a ``dask.distributed`` client's workers.

    :meth:`connect` makes the client: to the scheduler at an address, or to a
    ``LocalCluster`` of worker processes it starts (and stops on :meth:`close`). The
    workers must see the index's directory at the same path (one machine, or a shared
    file system), as they open the shards themselves.
    """

    def __init__(self, client: Any, cluster: Any = None) -> None:
        self.client = client
        self._cluster = cluster  # started here: closed with the runner

    @classmethod
    def connect(cls, scheduler: str | None = None, workers: int | None = None) -> DaskRunner:
        from importlib import import_module

        distributed: Any = import_module("distributed")  # typed loosely: it ships partial hints
        if scheduler is not None:
            return cls(distributed.Client(scheduler))
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            dashboard_address=None, host="127.0.0.1",
        )
        return cls(distributed.Client(cluster), cluster)

    def run(self, calls: Sequence[Call], timeout: float | None = None) -> list[Outcome]:
        from uuid import uuid4

        token = uuid4().hex[:12]
        futures = [
            self.client.submit(
                _on_worker, call.function, *call.args, key=f"searchlib-{call.function.__name__}-{call.shard}-{token}",
                pure=False, workers=[call.worker] if call.worker else None, allow_other_workers=False,
            )
            for call in calls
        ]
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        outcomes = []
        for call, future in zip(calls, futures):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                worker, ok, value = future.result(timeout=remaining)
                outcomes.append(_outcome(call.shard, worker, ok, value))
            except TimeoutError:
                future.cancel()
                outcomes.append(Outcome(call.shard, timed_out=True))
            except Exception as exc:  # noqa: BLE001  # a worker lost, a task cancelled
                outcomes.append(Outcome(call.shard, error_type=type(exc).__name__, message=str(exc)))
        return outcomes

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
