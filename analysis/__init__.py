"""Analysis layer of oneclick-report: load → validate → clean → features → eda → correlation →
model → importance → segments, producing one typed :class:`analysis.results.Results` object.

Nothing in this package formats HTML; :mod:`report` renders what it computes.
"""

__version__ = "0.1.0"
