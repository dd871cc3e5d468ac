"""The findings of the theorem chapter in words (sigma_lib.report.theory_sentences), on small tables."""
import pandas as pd

from sigma_lib.report import theory_sentences as ts


def test_the_plug_in_sentence_picks_the_largest_bias_and_the_best_coverage():
    # a text column, as in the chapter's table: a row keeps the integer sizes as integers
    est = pd.DataFrame({"kind": ["gaussian", "gaussian"], "d": [16, 64], "m": [256, 512], "N": [4096, 4096],
                        "bias_naive": [0.5, 3.84], "coverage_paper": [0.6, 0.0], "coverage_corrected": [0.95, 1.0]})
    assert ts.plug_in_bias_sentence(est) == (
        "Largest bias of the paper's plug-in: **3.8 nats** at $d$ = 64, $m$ = 512, $N$ = 4096, where the paper's "
        "interval covers 0% and the corrected one 100%. Best case for the paper's interval: $d$ = 16, $m$ = 256, "
        "$N$ = 4096, covering 60%.")


def test_the_drift_bias_sentence_separates_gaussian_and_unit_norm_columns():
    bias = pd.DataFrame({"kind": ["gaussian", "gaussian", "unit_gaussian", "unit_gaussian"],
                         "bias_U": [-2.3, -2.3, -2.3, -2.2], "drift_bias": [0.27, -0.1, 0.3, 0.03],
                         "drift_bias_se": [0.27, 0.27, 0.2, 0.2], "drift_true": [-5.0, -1.0, -4.0, 0.02]})
    text = ts.drift_bias_sentence(bias)
    assert text.startswith("For Gaussian columns $U$ is biased by about -2.3 nats, and its drift by at most 0.27 nats")
    assert "$U$'s bias is -2.3 to -2.2 nats and changes with the law, so up to **0.3 nats** (13 % of the bias)" in text
    assert "(an error of 0.03 nats on a true drift of 0.02 nats in the worst row)" in text


def test_the_sigma_xi_sentence_reads_the_row_of_least_coverage():
    sxi = pd.DataFrame({"d": [8.0, 32.0], "m": [512.0, 128.0], "ratio_in_sample": [0.97, 0.76],
                        "in_sample_factor": [0.98, 0.74], "coverage_in_sample": [0.94, 0.88],
                        "coverage_in_sample_predicted": [0.95, 0.91], "coverage_true": [0.95, 0.95],
                        "coverage_rescaled": [0.95, 0.95], "ratio_leave_one_out": [2.6, 9.0]})
    text = ts.sigma_xi_sentence(sxi)
    assert text.startswith("At $d$ = 32, $m$ = 128 the in-sample estimate averages **76%** of the true variance "
                           "(predicted 74%) and the interval built on it covers **88%** (predicted 91%)")
    assert "Leave-one-out over-estimates the variance 2.6 to 9-fold here" in text


def _non_gaussian():
    return pd.DataFrame({"kind": ["unit_isotropic", "student_t"],
                         "columns": ["unit-norm isotropic", "Student-t, 5 dof"], "d": [16, 16], "m": [128, 128],
                         "N": [1024, 1024], "bias_measured": [0.8294, 1.119],
                         "bias_measured_se": [0.0154, 0.02], "bias_gaussian": [0.9776, 0.978],
                         "bias_moment_true": [0.8683, 1.1], "bias_moment_estimated": [0.8798, 1.104],
                         "sd_gaussian": [0.486, 0.5], "sd_measured": [0.084, 0.4],
                         "coverage_gaussian": [1.0, 0.8], "coverage_moment": [1.0, 1.0]})


def test_the_unit_norm_sentence_counts_standard_errors_off():
    text = ts.unit_norm_bias_sentence(_non_gaussian())
    assert text.startswith("Unit-norm isotropic columns, $d$ = 16, $m$ = 128, $N$ = 1024: measured bias "
                           "**0.8294 ± 0.0154** nats; the Gaussian $D$ predicts 0.9776 (10 standard errors off)")
    assert "0.8683 with the true $\\sigma_\\xi = 0$ (2.5 s.e.)" in text
    assert "(sd 0.486 against a measured 0.084)" in text


def test_the_non_gaussian_lines_leave_out_unit_norm_columns():
    assert ts.non_gaussian_lines(_non_gaussian()) == (
        "- Student-t, 5 dof at $d$ = 16: bias 1.119 measured, 0.978 Gaussian, 1.104 moment-corrected; coverage 80% "
        "(Gaussian correction) against 100% (moment-corrected).")


def test_the_block_size_sentence_reads_the_largest_dimension():
    need = pd.DataFrame({"d": [16, 384], "m_for_0.90": [1000, 14629289], "m_for_0.94": [5000, 90000000]})
    est = pd.DataFrame({"m": [256, 512], "coverage_corrected": [0.95, 1.0]})
    assert ts.block_size_sentence(need, est) == (
        "At $d$ = 384 the paper's interval reaches 90 % coverage only at $m$ = **14,629,289** observed columns "
        "(0.26 $d^3$); the bias-corrected interval needs no such $m$: it covered 95% to 100% in the Theorem 3 table "
        "above, at $m$ from 256 to 512.")


def test_the_moment_interval_sentence_says_where_it_holds_over_covers_and_under_covers():
    ng = pd.DataFrame({"columns": ["unit-norm isotropic", "Student-t, 5 dof", "Student-t, 5 dof", "MiniLM"],
                       "d": [16, 16, 64, 64], "coverage_moment": [1.0, 0.9, 0.9067, 0.9633],
                       "coverage_gaussian": [1.0, 0.7533, 0.68, 0.9267], "coverage_se": [0.0126] * 4})
    text = ts.moment_interval_sentence(ng)
    assert "is the one to use" not in text  # the old, unconditional recommendation
    assert "it covers within 2 s.e. of 95 % on MiniLM (0.963 at $d$ = 64): there it is the interval to use" in text
    assert "it over-covers on unit-norm isotropic (1.000 at $d$ = 16): there it is conservative" in text
    assert ("it under-covers on Student-t, 5 dof (0.900 at $d$ = 16, 4.0 s.e. below 95 %; 0.907 at $d$ = 64, "
            "3.4 s.e. below 95 %): there it is too narrow") in text
    assert text.endswith("It is closer to 95 % than the Gaussian correction in 3 of the 4 rows, as close in 1 and "
                         "farther in 0.")
    near = ts.moment_interval_sentence(ng.assign(coverage_moment=[0.95, 0.94, 0.96, 0.95]))
    assert "over-covers" not in near and "under-covers" not in near
