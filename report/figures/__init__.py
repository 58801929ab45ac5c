"""Matplotlib figures of the report, drawn from precomputed numbers.

:mod:`report.figures.style` holds the one visual style (palette, fonts, figure factory and
deterministic SVG/PNG serialisation); the other modules draw individual figures with it.
"""
