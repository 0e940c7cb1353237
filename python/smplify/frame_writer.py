"""Jobs run in the order given, inline or on one worker thread: ``smplify.pipeline``'s
drawing and writing of frame t while frame t + 1 is detected and fitted.

``FrameWriter(threaded=True)`` runs each submitted job on its own thread, one at a time, in
submission order, with at most ``depth`` jobs waiting (``submit`` blocks when the queue is
full, so a slow disk holds the reader back instead of filling memory). The worker's OpenGL
context is its own (``smplify._gl`` keeps one per thread) and released when it stops.

Errors: a job's exception stops the jobs after it (they are dropped) and is raised again in
the submitting thread, by the next ``submit`` or by ``close``, with a note naming the job.
An exception in the submitting thread (KeyboardInterrupt included, also one that
interrupts ``close``'s wait) calls ``abort``: the jobs not started are dropped, the running
one finishes, the worker is joined; nothing hangs, nothing runs after the caller raised. A
job's error not yet raised is then attached to the caller's exception (``abort(raising=)``).
``FrameWriter(threaded=False)`` runs each job inside ``submit``: the serial pipeline.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["FrameWriter"]

_STOP = object()


class FrameWriter:
    """Run jobs in order, inline (``threaded=False``) or on one worker thread.

    Parameters
    ----------
    threaded : bool
        Run the jobs on a worker thread (True) or inside ``submit`` (False).
    depth : int
        Jobs that may wait for the worker (>= 1).
    """

    def __init__(self, threaded: bool = True, depth: int = 2) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth: expected an int >= 1, got {depth!r}")
        self.threaded = threaded
        self._error: BaseException | None = None
        self._cancelled = threading.Event()
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        self._closed = False
        if threaded:
            self._thread = threading.Thread(target=self._work, name="smplify-frame-writer",
                                            daemon=True)
            self._thread.start()

    def submit(self, what: str, job: Callable[..., Any], *args: Any) -> None:
        """Run ``job(*args)`` after the jobs submitted before it.

        Parameters
        ----------
        what : str
            What the job does ("frame 12"), for the note on its error.
        job : callable

        Raises
        ------
        Exception
            A job submitted earlier failed (its own exception, noted).
        RuntimeError
            The writer is closed.
        """
        if self._closed:
            raise RuntimeError("FrameWriter: submit after close/abort")
        self._raise_error()
        if self._thread is None:
            self._run(what, job, args)
            self._raise_error()
            return
        self._jobs.put((what, job, args))

    def close(self) -> None:
        """Wait for every job; raise the first job's error, if any.

        An exception while waiting (KeyboardInterrupt) stops the writer as ``abort`` does:
        the jobs not started are dropped, the running one finishes, then it is raised.
        """
        if not self._closed:
            self._closed = True
            if self._thread is not None:
                try:
                    self._jobs.put(_STOP)
                    self._thread.join()
                except BaseException:
                    self._stop()
                    raise
        self._raise_error()

    def abort(self, raising: BaseException | None = None) -> None:
        """Drop the jobs not started, wait for the running one, stop the worker (no raise).

        Parameters
        ----------
        raising : BaseException, optional
            The exception the caller is raising: a job's error not yet raised is attached
            to it (a note naming it, and its ``__context__`` if that is empty) instead of
            being lost. Without it, such an error is dropped.
        """
        self._closed = True
        self._stop()
        error, self._error = self._error, None
        if error is not None and raising is not None and error is not raising:
            raising.add_note("smplify: the writer had failed as well: "
                             + "; ".join([repr(error), *getattr(error, "__notes__", [])]))
            if raising.__context__ is None:
                raising.__context__ = error

    def _stop(self) -> None:
        """Cancel the jobs not started and join the worker, unless it has already stopped."""
        self._cancelled.set()
        if self._thread is None or not self._thread.is_alive():
            return
        while True:  # empty the queue so the stop mark fits (this thread is its only feeder)
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        self._jobs.put(_STOP)
        self._thread.join()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self, what: str, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            job(*args)
        except BaseException as err:  # noqa: BLE001 - handed to the submitting thread
            err.add_note(f"smplify: raised while drawing/writing {what}"
                         + (" on the writer thread" if self.threaded else ""))
            self._error = err
            self._cancelled.set()

    def _work(self) -> None:
        try:
            while True:
                item = self._jobs.get()
                if item is _STOP:
                    return
                if not self._cancelled.is_set():
                    self._run(*item)
        finally:
            from . import _gl

            _gl.release_context()
