"""Running a coroutine from a synchronous test, whatever else the worker runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: the browser tests' Playwright keeps an event loop
    running on the main thread of their worker for the whole session, and ``asyncio.run``
    refuses to start under a running loop."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="test-asyncio")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
