"""Units packed into chunks: one task, one output shard each.

A chunk takes whole units in input order until it holds at least ``chunk_frames`` frames, so a
video is never split (its tracks warm-start from frame to frame) and the plan depends only on
the inputs and the chunk size, never on the engine or the number of workers: every engine
writes the same shards, row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .inputs import Unit

__all__ = ["Chunk", "plan_chunks", "shard_name"]


@dataclass(frozen=True)
class Chunk:
    """Units fitted together and written to one shard.

    Attributes
    ----------
    index : int
        Position in the plan (names the shard).
    units : tuple of Unit
    """

    index: int
    units: tuple[Unit, ...]

    @property
    def frames(self) -> int:
        """Frames (images) over the chunk's units."""
        return sum(u.frames for u in self.units)


def plan_chunks(units: Sequence[Unit], chunk_frames: int) -> list[Chunk]:
    """Pack ``units`` in order into chunks of at least ``chunk_frames`` frames (the last may
    hold fewer; a unit longer than that is a chunk of its own).

    Parameters
    ----------
    units : sequence of Unit
    chunk_frames : int
        Target frames per chunk, >= 1.

    Returns
    -------
    list of Chunk
    """
    if isinstance(chunk_frames, bool) or not isinstance(chunk_frames, int) or chunk_frames < 1:
        raise ValueError(f"chunk: expected an integer >= 1 (frames per chunk), got "
                         f"{chunk_frames!r}")
    chunks: list[Chunk] = []
    current: list[Unit] = []
    for unit in units:
        current.append(unit)
        if sum(u.frames for u in current) >= chunk_frames:
            chunks.append(Chunk(len(chunks), tuple(current)))
            current = []
    if current:
        chunks.append(Chunk(len(chunks), tuple(current)))
    return chunks


def shard_name(index: int) -> str:
    """File name of chunk ``index``'s shard."""
    return f"part-{index:06d}.parquet"
