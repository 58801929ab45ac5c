"""The first module of the workers' forkserver preload (:mod:`runtime.executor`): the cyclic garbage
collector is off while the forkserver imports the modules after it. Imported only there: importing it
anywhere else turns that process' collector off.

With :mod:`runtime.collector_on`, the last module of the preload, this is the recipe of
:func:`gc.freeze`'s documentation for a process that forks without exec: ``gc.disable()`` early in
the parent, ``gc.freeze()`` before the fork, the collector on in the children. Importing the
libraries creates next to no cyclic garbage, yet with the collector on, each full collection that the
growing heap triggers traverses every object imported so far: measured on the build's preload,
0.29–0.35 s of its 1.8–2.0 s of CPU, the memory after it the same (252 MB with the collector, 255 MB
without; a reviewer's run: 1.37–1.47 → 1.17–1.21 s, 2 766 objects, 0.5 MB, left frozen).
"""

from __future__ import annotations

import gc

gc.disable()
