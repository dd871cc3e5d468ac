"""sigma_lib: the mathematics of *Sigma: Scalable Spectral Insights for LLM Model Collapse*.

Where to find what (equation numbers are the paper's):

=====================================  ==================================================
log det (2.2), L_eps (B.1), (B.19)      :mod:`sigma_lib.maths.logdet`
Gram matrices (2.1), streaming          :mod:`sigma_lib.maths.gram`
observed index set, G = G_m + G_{N-m}   :mod:`sigma_lib.maths.observed`
Theorem 1 (3.4), ratio (3.7)-(3.8)      :mod:`sigma_lib.maths.theorem1`
Theorem 2 (3.5)-(3.6), plug-in (3.13)   :mod:`sigma_lib.maths.theorem2`
Theorem 3 (3.9)-(3.14)                  :mod:`sigma_lib.maths.theorem3`
bias-corrected estimator (finding)      :mod:`sigma_lib.maths.bias_correction`
Track I (3.18), Track II (3.20), (3.21) :mod:`sigma_lib.maths.tracks`
Algorithm 1                             :mod:`sigma_lib.maths.algorithm1`
bootstrap noise                         :mod:`sigma_lib.maths.noise`
streaming monitor                       :mod:`sigma_lib.maths.monitor`
Table 1 summary                         :mod:`sigma_lib.maths.run_summary`
distinct-n, HHI, Spearman (App. C)      :mod:`sigma_lib.maths.surface`
=====================================  ==================================================
"""
from ._version import __version__
from .maths.algorithm1 import SigmaUB, algorithm1, observed_grams, sigma_ub_from_gram
from .maths.bias_correction import (
    bias_corrected_estimate,
    bias_corrected_interval,
    digamma_offset,
    digamma_offset_variance,
    moment_corrected_interval,
    moment_corrected_offset,
    naive_bias,
    second_order_bias,
)
from .maths.gram import GramAccumulator, accumulate_gram, gram_matrix, gram_matrix_torch, unit_normalize
from .maths.logdet import logdet, regularized_logdet
from .maths.monitor import CheckpointRecord, SigmaMonitor
from .maths.noise import TrackDraws, bootstrap_index_sets, drift_noise, index_set_bootstrap
from .maths.observed import select_observed_indices, split_gram
from .maths.run_summary import RunSummary, least_squares_slope, run_summary
from .maths.surface import distinct_n, hashed_ngram_hhi, spearman
from .maths.theorem1 import (
    Theorem1Bounds,
    overestimation_ratio_asymptotic,
    overestimation_ratio_measured,
    theorem1_bounds,
)
from .maths.theorem2 import plugin_estimate, size_invariant_logdet
from .maths.theorem3 import (
    Interval,
    estimate_sigma_xi,
    in_sample_coverage,
    mahalanobis_xi,
    required_block_size,
    sigma_xi2_estimates,
    standardized_error,
    theorem3_half_width,
    theorem3_interval,
)
from .maths.tracks import DEFAULT_EPS, drift, tail_energy_budget, track1_envelope, track1_gamma_kf, track2_u_lln_cov

__all__ = [
    "__version__",
    "SigmaUB",
    "algorithm1",
    "observed_grams",
    "sigma_ub_from_gram",
    "bias_corrected_estimate",
    "bias_corrected_interval",
    "digamma_offset",
    "digamma_offset_variance",
    "moment_corrected_interval",
    "moment_corrected_offset",
    "naive_bias",
    "second_order_bias",
    "GramAccumulator",
    "accumulate_gram",
    "gram_matrix",
    "gram_matrix_torch",
    "unit_normalize",
    "logdet",
    "regularized_logdet",
    "CheckpointRecord",
    "SigmaMonitor",
    "TrackDraws",
    "bootstrap_index_sets",
    "drift_noise",
    "index_set_bootstrap",
    "select_observed_indices",
    "split_gram",
    "RunSummary",
    "least_squares_slope",
    "run_summary",
    "distinct_n",
    "hashed_ngram_hhi",
    "spearman",
    "Theorem1Bounds",
    "overestimation_ratio_asymptotic",
    "overestimation_ratio_measured",
    "theorem1_bounds",
    "plugin_estimate",
    "size_invariant_logdet",
    "Interval",
    "estimate_sigma_xi",
    "in_sample_coverage",
    "mahalanobis_xi",
    "required_block_size",
    "sigma_xi2_estimates",
    "standardized_error",
    "theorem3_half_width",
    "theorem3_interval",
    "DEFAULT_EPS",
    "drift",
    "tail_energy_budget",
    "track1_envelope",
    "track1_gamma_kf",
    "track2_u_lln_cov",
]
