"""The last module of the workers' forkserver preload (:mod:`runtime.executor`): what the preload
imported goes to the garbage collector's permanent generation (:func:`gc.freeze`), then the collector,
off since :mod:`runtime.collector_off`, is on again. So every process the forkserver forks starts with
the collector on and the preloaded objects out of its way (no full collection traverses them, nor
touches their pages). Imported only there: importing it anywhere else freezes that process' objects.
"""

from __future__ import annotations

import gc

gc.freeze()
gc.enable()
