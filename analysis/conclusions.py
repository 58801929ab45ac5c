"""Which conclusions this run supports — never hard-coded, never worded here.

The analysis decides which conclusions the results support (a key each: a deep dive only when the
priority segment has customers who buy on promotion and leave items unpaid, multicollinearity only
when a pair is flagged, …); the report writes each one from the results with its message catalogue
(``report.texts.conclusion_text``).
"""

from __future__ import annotations

from analysis.results import (
    Conclusion, CorrelationResult, DataResult, EdaResult, ImportanceResult, ModelResult, SegmentsResult,
)


def write_conclusions(*, data: DataResult, eda: EdaResult, correlation: CorrelationResult, model: ModelResult,
                      importance: ImportanceResult, segments: SegmentsResult) -> tuple[Conclusion, ...]:
    """The keys of the conclusions the results support, in reading order."""
    keys = ["data", "model", "drivers"]
    if importance.disagreements:
        keys.append("importance_disagreement")
    keys.append("priority")
    if segments.deep_dive.n_promo_unpaid:
        keys.append("deep_dive")
    keys.append("multicollinearity" if correlation.flagged_pairs else "no_multicollinearity")
    return tuple(Conclusion(key=k) for k in keys)
