"""The overlay video of ``smplify fit VIDEO`` (``<input>_overlay.mp4``), frame by frame.

H.264 (browsers play it) through the ffmpeg of ``imageio-ffmpeg`` (the ``render`` extra; its
own ffmpeg has libx264), run here as a child process fed raw RGB frames on its stdin; where
that package or its libx264 is missing, OpenCV's MPEG-4 Part 2 (``mp4v``: OpenCV's wheels have
no H.264 encoder; browsers do not play it). An encoder that fails (ffmpeg exits with an error
at any frame or at the end, e.g. a full disk) is an ``OSError`` naming the file and quoting
ffmpeg's last lines, and the broken file is removed: never a silently unplayable video.

ffmpeg's messages go to a temporary file, read only when it fails (no pipe to drain, no
reader thread); it runs in its own session, so a Ctrl-C meant for smplify does not cut the
video short before it is closed.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
import tempfile
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

__all__ = ["VideoOut", "h264_ffmpeg"]

#: libx264's preset: veryfast, 18-25 ms a 768 x 576 frame and 185 kB for vtest.avi's first 40
#: frames (medium: 55-67 ms, 248 kB; OpenCV's mp4v: 32-34 ms, 630 kB)
H264_PRESET = "veryfast"


class VideoOut:
    """The overlay video, opened on its first frame: H.264 where imageio-ffmpeg is installed
    (module docstring), else OpenCV's ``mp4v``. ``codec`` says which: "h264" or "mp4v" (None
    before the first frame).

    Parameters
    ----------
    path : Path
        The .mp4 file (its folder is made with the first frame).
    fps : float or None
        Frames per second (None: 25).
    """

    def __init__(self, path: Path, fps: float | None):
        self.path, self.fps, self._writer = path, fps or 25.0, None
        self._ffmpeg: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None  # ffmpeg's stderr
        self._size = (0, 0)
        self.codec: str | None = None

    def write(self, rgb: NDArray[np.uint8]) -> None:
        """Append one (H, W, 3) RGB frame (the first one's size for all).

        Raises
        ------
        OSError
            The encoder failed (the file is removed) or OpenCV cannot write here.
        """
        if self.codec is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._open(rgb):
                return
        if self._ffmpeg is not None:
            self._send(self._even(rgb))
            return
        self._writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))

    def _even(self, rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The frame padded to even sides (its last row/column repeated): H.264's 4:2:0."""
        h, w = rgb.shape[:2]
        out = np.pad(rgb, ((0, self._size[1] - h), (0, self._size[0] - w), (0, 0)), "edge")
        return np.ascontiguousarray(out)

    def _send(self, rgb: NDArray[np.uint8]) -> None:
        assert self._ffmpeg is not None and self._ffmpeg.stdin is not None
        try:
            self._ffmpeg.stdin.write(rgb.tobytes())
        except OSError:  # ffmpeg has stopped reading: it exited; say why
            self._finish(check=True)
            raise OSError(f"{self.path}: ffmpeg stopped reading the frames") from None

    def _open(self, rgb: NDArray[np.uint8]) -> bool:
        """Open the writer; whether it took ``rgb`` (the first frame) already."""
        h, w = rgb.shape[:2]
        self._size = (w + w % 2, h + h % 2)
        exe = h264_ffmpeg()
        if exe is not None:
            self._start(exe)
            self.codec = "h264"
            self._send(self._even(rgb))
            return True
        import cv2

        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"),
                                       self.fps, (w, h))
        if not self._writer.isOpened():
            raise OSError(f"{self.path}: OpenCV cannot write an mp4 video here")
        self.codec = "mp4v"
        return False

    def _start(self, exe: str) -> None:
        w, h = self._size
        command = [exe, "-y", "-hide_banner", "-loglevel", "error",
                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                   "-r", f"{float(self.fps):.6f}", "-i", "-", "-an",
                   "-c:v", "libx264", "-preset", H264_PRESET, "-pix_fmt", "yuv420p",
                   "-movflags", "+faststart", str(self.path)]
        self._log = tempfile.TemporaryFile()
        try:
            self._ffmpeg = subprocess.Popen(command, stdin=subprocess.PIPE,
                                            stdout=subprocess.DEVNULL, stderr=self._log,
                                            start_new_session=True)
        except OSError as err:
            self._log.close()
            raise OSError(f"{self.path}: cannot start ffmpeg ({exe}): {err}") from None

    def _finish(self, check: bool) -> None:
        """Let ffmpeg end the file and exit; with ``check``, a failure is an OSError (the
        file removed)."""
        process, log = self._ffmpeg, self._log
        if process is None or log is None:
            return
        self._ffmpeg = self._log = None
        with contextlib.suppress(OSError):  # already closed by an exited ffmpeg
            assert process.stdin is not None
            process.stdin.close()
        status = process.wait()
        log.seek(0)
        said = log.read().decode(errors="replace").strip().splitlines()
        log.close()
        if status != 0 and check:
            self.path.unlink(missing_ok=True)
            tail = "; ".join(said[-3:]) or "no message"
            raise OSError(f"{self.path}: the H.264 encoder (ffmpeg) failed with exit status "
                          f"{status}: {tail}; the video was not written")

    def close(self, check: bool = True) -> Path | None:
        """End the video; returns its path (None: no frame was written).

        Parameters
        ----------
        check : bool
            Raise an ``OSError`` (and remove the file) when the encoder failed; False (an
            error is already on its way): end the file as far as it goes, quietly.
        """
        if self.codec == "h264":
            self._finish(check)
            return self.path if self.path.is_file() else None
        if self._writer is None:
            return None
        self._writer.release()
        if check and not (self.path.is_file() and self.path.stat().st_size > 0):
            raise OSError(f"{self.path}: OpenCV wrote no video (mp4v)")
        return self.path


def h264_ffmpeg() -> str | None:
    """imageio-ffmpeg's ffmpeg (or the one IMAGEIO_FFMPEG_EXE names) where it has libx264."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - not installed, or no binary for this platform
        return None
    return exe if _ffmpeg_has_libx264(exe) else None


@functools.lru_cache(maxsize=4)
def _ffmpeg_has_libx264(exe: str) -> bool:
    """Whether the ffmpeg at ``exe`` has the libx264 encoder (imageio-ffmpeg's own does; a
    system one named by IMAGEIO_FFMPEG_EXE may not)."""
    try:
        listed = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True,
                                text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(line.split()[1:2] == ["libx264"] for line in listed.splitlines())
