"""Executors for sweeps: any :class:`concurrent.futures.Executor` will do; here are the three the CLI builds."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from ...errors import ConfigError

__all__ = ["InlineExecutor", "dask_executor", "executor_for", "in_flight_limit", "process_pool"]

_SCHEMES = ("tcp://", "tls://", "inproc://", "ws://", "wss://")


class InlineExecutor(Executor):
    """Runs each task at once in this process (one worker: no pool to start)."""

    _max_workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now; return its (finished) future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def _die_with_parent(parent: int) -> None:
    """In a worker: ask Linux to end this process when its parent dies (a killed sweep leaves no workers)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux: workers end when their pipe closes
        return
    if os.getppid() != parent:  # the parent died before the request was made: it would never come
        os._exit(1)


def process_pool(workers: int) -> Executor:
    """Local worker processes (forked: they start in milliseconds with biodist already imported).

    The parent has started no numba threads (only Monte Carlo statistics use them, inside the
    workers), so forking is safe. Each worker dies with its parent.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    fork = mp.get_context("fork")
    return ProcessPoolExecutor(workers, mp_context=fork, initializer=_die_with_parent, initargs=(os.getpid(),))


def dask_executor(address: str) -> Executor:
    """The executor of a Dask distributed client connected to ``address`` (``tcp://HOST:PORT``)."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("--scheduler needs the dask extra: pip install 'biodist[dask]'") from None
    if not address.startswith(_SCHEMES):
        raise ConfigError(f"--scheduler {address}: expected an address such as tcp://HOST:PORT")
    try:
        client = Client(address, timeout="10s")  # a loaded machine can take seconds to answer
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"--scheduler {address}: cannot connect ({exc})") from None
    return _ClientExecutor(client)


class _ClientExecutor(Executor):
    """Dask's ``client.get_executor()``, closing the client when the executor shuts down."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._executor = client.get_executor(pure=False)
        self._max_workers = max(1, sum(client.nthreads().values()))
        self._empty_since: float | None = None

    def seconds_without_workers(self) -> float:
        """How long the cluster has had no workers (0 while it has some)."""
        import time

        if self._client.nthreads():
            self._empty_since = None
            return 0.0
        if self._empty_since is None:
            self._empty_since = time.monotonic()
        return time.monotonic() - self._empty_since

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Submit to the cluster."""
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the executor and close the client."""
        self._executor.shutdown(wait=wait)
        self._client.close()


def executor_for(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor the command line uses: Dask for a scheduler address, else local processes."""
    if scheduler:
        return dask_executor(scheduler)
    n = workers or os.cpu_count() or 1
    return InlineExecutor() if n <= 1 else process_pool(n)


def in_flight_limit(executor: Executor) -> int:
    """How many chunks to have running at once: twice the workers (one for a task run in place)."""
    if isinstance(executor, InlineExecutor):
        return 1
    return 2 * (getattr(executor, "_max_workers", None) or os.cpu_count() or 1)
