"""Run a video sink's encoding on a background thread, overlapping it with the model.

Colour conversion and encoding of each output frame (libx264 at 720x576 took about as long as a
third of an RLSP step here) otherwise run between model steps on the main thread. The torch
operations and libavcodec calls involved release the GIL, so on a multi-core CPU they proceed
while the main thread runs the next step. All calls reach the wrapped sink in their original order
from one thread (a muxer is not thread-safe and audio packets interleave with frames); the queue is
bounded, so memory stays flat; an error on the worker is raised again on the caller's next call.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

_STOP = object()


class BackgroundWriter:
    """Wraps a sink (``write``, ``write_yuv420``, ``copy_packet``, ``end_input_frame``, ``close``, ``abort``); its
    other attributes pass through (read results such as ``lost`` after :meth:`close`)."""

    def __init__(self, sink: Any, *, max_pending: int = 4) -> None:
        self._sink = sink
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="vsrkit-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is not None:
                continue  # drain without working: the caller will see the error
            method, args = item
            try:
                getattr(self._sink, method)(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self._error = exc

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _submit(self, method: str, *args: Any) -> None:
        self._raise_pending()
        if not self._thread.is_alive():
            raise RuntimeError("background writer already stopped")
        self._queue.put((method, args))

    def write(self, *args: Any) -> None:
        self._submit("write", *args)

    def write_yuv420(self, *args: Any) -> None:
        self._submit("write_yuv420", *args)

    def copy_packet(self, *args: Any) -> None:
        self._submit("copy_packet", *args)

    def end_input_frame(self, *args: Any) -> None:
        self._submit("end_input_frame", *args)

    def _drain(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def close(self) -> None:
        """Finish every queued call, then close the sink; raises the first worker error."""
        self._drain()
        self._raise_pending()
        self._sink.close()

    def abort(self) -> None:
        self._drain()
        self._error = None
        self._sink.abort()

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not defined here (e.g. ``lost``, ``format_name``).
        return getattr(self._sink, name)
