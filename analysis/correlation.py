"""phik correlations with significance, and multicollinearity (VIF and flagged pairs).

The data are binned once and both the phik matrix and its significance (asymptotic Z-scores)
are computed from the same binned frame. Above ``CorrelationConfig.max_rows`` rows both are
computed on a stated random sample.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analysis.config import CorrelationConfig
from analysis.features import PreparedData
from analysis.results import CorrelationResult, FlaggedPair, Matrix, TargetCorrelation, VifEntry
from analysis.schema import FEATURES, NUMERIC_FEATURES

TARGET_LABEL = "target"


def _matrix(frame: pd.DataFrame, labels: list[str]) -> Matrix:
    values = frame.reindex(index=labels, columns=labels).to_numpy(dtype=float)
    return Matrix(labels=tuple(labels),
                  values=tuple(tuple(None if not np.isfinite(v) else round(float(v), 4) for v in row)
                               for row in values))


def vif(frame: pd.DataFrame) -> pd.Series:
    """Variance inflation factors: the diagonal of the inverse correlation matrix."""
    corr = np.corrcoef(frame.to_numpy(dtype=float), rowvar=False)
    inverse = np.linalg.pinv(corr)
    return pd.Series(np.diag(inverse), index=frame.columns)


def run_correlation(data: PreparedData, config: CorrelationConfig, *, random_state: int) -> CorrelationResult:
    """phik matrix of features and target, significance, flagged pairs and VIF."""
    from phik import binning, phik, significance  # deferred: a heavy import

    frame = data.frame[list(FEATURES)].assign(**{TARGET_LABEL: data.frame["target"].to_numpy()})
    n_rows = len(frame)
    sample_rows = None
    if n_rows > config.max_rows:
        frame = frame.sample(n=config.max_rows, random_state=random_state)
        sample_rows = config.max_rows
    labels = [*FEATURES, TARGET_LABEL]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binned = binning.bin_data(frame, cols=list(NUMERIC_FEATURES), bins=config.bins)
        phik_frame = phik.phik_from_rebinned_df(binned, njobs=1)
        significance_frame = None
        if config.significance and len(frame) <= config.significance_max_rows:
            significance_frame = significance.significance_from_rebinned_df(
                binned, significance_method="asymptotic", njobs=1)
    pairs = []
    for i, a in enumerate(FEATURES):
        for b in FEATURES[i + 1:]:
            value = float(phik_frame.loc[a, b])
            if value >= config.phik_threshold:
                pairs.append(FlaggedPair(a=a, b=b, phik=round(value, 4)))
    vifs = vif(data.frame[list(NUMERIC_FEATURES)])
    with_target = tuple(sorted(
        (TargetCorrelation(
            feature=f, phik=round(float(phik_frame.loc[f, TARGET_LABEL]), 4),
            significance=(None if significance_frame is None
                          else round(float(significance_frame.loc[f, TARGET_LABEL]), 3)))
         for f in FEATURES),
        key=lambda t: -t.phik))
    return CorrelationResult(
        phik=_matrix(phik_frame, labels),
        significance=None if significance_frame is None else _matrix(significance_frame, labels),
        n_rows=n_rows, sample_rows=sample_rows, threshold=config.phik_threshold,
        flagged_pairs=tuple(sorted(pairs, key=lambda p: -p.phik)),
        vif=tuple(VifEntry(feature=f, vif=round(float(v), 3), flagged=bool(v >= config.vif_threshold))
                  for f, v in vifs.items()),
        vif_threshold=config.vif_threshold, with_target=with_target,
    )
