"""The garbage collector paused around bounded, allocation-heavy work: laying out and writing the
PDF, drawing a figure.

Such work makes hundreds of thousands of short-lived objects, and each collection they trigger
traverses those still alive; nothing it makes needs the collector while it runs, and what it leaves
is collected afterwards, as usual. Measured on the real data in a worker with the build's preload:
the PDF 2.42–2.70 s → 2.16–2.19 s of CPU, its peak memory the same (333–334 MB); the figures
1.82–2.16 s → 1.61–1.71 s.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """No automatic garbage collection inside the block; the collector is left as it was found."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
