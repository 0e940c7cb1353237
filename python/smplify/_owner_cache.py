"""A small LRU cache for values derived from live objects (models, priors, capsules).

Keys hold the owners' ids; entries hold the owners only weakly, so a cache never keeps a
model alive: when an owner is garbage-collected every entry derived from it is dropped (a
loop that loads a fresh model per call must not pile up copies). An id can be reused once its
object is gone, so a hit also checks that the owners are still the very same objects.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any


class OwnerCache:
    """``get(owners, extra, compute)``: compute() cached per (owners' identities, extra)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple, tuple[tuple[weakref.ref, ...], Any]] = OrderedDict()
        # Re-entrant: a weakref callback can run (garbage collection) while this thread
        # holds the lock.
        self._lock = threading.RLock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, owners: Sequence[Any], extra: Hashable, compute: Callable[[], Any]) -> Any:
        key = (*map(id, owners), extra)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and all(ref() is owner
                                       for ref, owner in zip(hit[0], owners, strict=True)):
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()  # outside the lock: may take milliseconds, may run in parallel
        refs = tuple(weakref.ref(owner, self._dropper(key)) for owner in owners)
        with self._lock:
            self._entries[key] = (refs, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def _dropper(self, key: tuple) -> Callable[[weakref.ref], None]:
        def drop(ref: weakref.ref) -> None:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and ref in entry[0]:
                    del self._entries[key]
        return drop

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
