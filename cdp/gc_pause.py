"""Python's cyclic garbage collector paused for the length of a batch.

A projection batch allocates hundreds of thousands of small dicts and lists (rows, facts, state),
almost none of them in reference cycles: reference counting frees them. Each allocation burst
still triggers the collector's generations, and every full collection walks the whole live heap
(the loaded state, the batch's rows): 15 % of a projection batch's CPU time (BENCHMARKS.md,
issue 23). Paused for the batch, it collects once when the batch ends, as before.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pauses the collector (process-wide) for the block, unless it was off already."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
