"""MediaPipe's C++ info and warning lines kept off stderr (``smplify.detection``).

MediaPipe (absl logging, not yet initialised, so every level goes to stderr) and TF Lite
print ~8 lines on a detector's first use: "All log messages before absl::InitializeLog()
...", "GPU suport is not available", "Created TensorFlow Lite XNNPACK delegate", "Feedback
manager requires a model with a single signature", "Using NORM_RECT without
IMAGE_DIMENSIONS". Neither ``GLOG_minloglevel`` nor ``TF_CPP_MIN_LOG_LEVEL`` quiets them
(measured: the same 9 lines), and absl's C++ threshold is not reachable from Python. So
while a block runs, file descriptor 2 goes through a pipe whose reader drops the lines of
that info or warning form and passes every other line (an error ``E...``, a fatal ``F...``,
Python's own output) on as it comes.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

#: an absl/glog info or warning line ("I0000 00:00:1796544365.217002   20783 file.cc:85] "),
#: TF Lite's "INFO: " line and absl's note on its uninitialised log
NATIVE_NOISE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:\d+(?:\.\d+)?\s+\d+ [\w.\-/]+:\d+\] "
    rb"|INFO: Created TensorFlow Lite "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called)")

_LOCK = threading.Lock()


@contextlib.contextmanager
def native_info_dropped() -> Iterator[None]:
    """Drop MediaPipe's native info and warning lines written to stderr (fd 2) meanwhile;
    pass every other line on. Nested or concurrent blocks share the first one's pipe."""
    if not _LOCK.acquire(blocking=False):  # another block filters fd 2 already
        yield
        return
    try:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 (a daemon): nothing to filter
            yield
            return
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        reader = threading.Thread(target=_forward, args=(read, saved), daemon=True,
                                  name="smplify-native-logs")
        reader.start()
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)  # the pipe's last write end closes: the reader ends
            reader.join()
            os.close(saved)
    finally:
        _LOCK.release()


def _forward(read: int, out: int) -> None:
    with os.fdopen(read, "rb") as pipe:
        for line in iter(pipe.readline, b""):
            if not NATIVE_NOISE.match(line):
                os.write(out, line)
