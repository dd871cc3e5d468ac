"""The findings of the chapter "The theorems, checked by simulation", each in words.

Every function takes the table (a pandas DataFrame, as :meth:`sigma_lib.report.book.Chapter.table`
returns it) of one of the chapter's simulations (:mod:`sigma_lib.maths.simulation`,
:mod:`sigma_lib.maths.drift_bias`) and returns Markdown for :meth:`~sigma_lib.report.book.Chapter.say`:
the sentence picks the rows it speaks of (the worst case, the largest block) and prints their
numbers, so the prose of the chapter is computed, never typed.
"""
from __future__ import annotations


def plug_in_bias_sentence(est) -> str:
    """Theorem 3's plug-in on Gaussian columns (the ``theorem3_coverage`` table): the largest bias of
    the paper's plug-in and where, with the coverage of the paper's and of the corrected interval
    there, and the row where the paper's interval covers best."""
    worst = est.loc[est.bias_naive.idxmax()]
    best = est.loc[est.coverage_paper.idxmax()]
    return (f"Largest bias of the paper's plug-in: **{worst.bias_naive:.1f} nats** at $d$ = {worst.d}, "
            f"$m$ = {worst.m}, $N$ = {worst.N}, where the paper's interval covers {worst.coverage_paper:.0%} and the "
            f"corrected one {worst.coverage_corrected:.0%}. Best case for the paper's interval: $d$ = {best.d}, "
            f"$m$ = {best.m}, $N$ = {best.N}, covering {best.coverage_paper:.0%}.")


def drift_bias_sentence(bias) -> str:
    """Whether the bias of Track II cancels in the drift (the ``drift_bias`` table of
    :func:`sigma_lib.maths.drift_bias.drift_bias_study`): for Gaussian columns the bias of ``U`` and
    the largest bias of its drift (the constant cancels); for unit-norm columns the range of ``U``'s
    bias, the largest bias left in the drift (and its share of the bias), and the row where it is
    largest beside the true drift (most of the constant cancels, not all of it)."""
    g, u = bias[bias.kind == "gaussian"], bias[bias.kind == "unit_gaussian"]
    # the row with the largest error relative to the drift
    worst = u.loc[(u.drift_bias.abs() / u.drift_true.abs().clip(lower=1e-9)).idxmax()]
    return (f"For Gaussian columns $U$ is biased by about {g.bias_U.mean():.1f} nats, and its drift by at most "
            f"{g.drift_bias.abs().max():.2f} nats (standard error about {g.drift_bias_se.mean():.2f}; the ridge "
            f"$\\varepsilon/m$ accounts for the rest at the strongest contraction): **the constant cancels**. For "
            f"unit-norm columns $U$'s bias is {u.bias_U.min():.1f} to {u.bias_U.max():.1f} nats and changes with the "
            f"law, so up to **{u.drift_bias.abs().max():.1f} nats** "
            f"({100 * (u.drift_bias.abs() / u.bias_U.abs()).max():.0f} % of the bias) remain in the drift; "
            "where the true drift is small that is large beside it (an error of "
            f"{abs(worst.drift_bias):.2f} nats on a true drift of {worst.drift_true:.2f} nats in the worst row)"
            ": **most of the constant cancels, not all of it**. A drift of Track II is therefore a "
            "slightly biased estimate of the change of $\\log\\det\\Sigma$ when the embeddings' shape changes, which "
            "the noise band does not include.")


def sigma_xi_sentence(sxi) -> str:
    """The in-sample estimate of sigma_xi (the ``theorem3_sigma_xi_estimators`` table): at the row
    where its interval covers least, the share of the true variance it averages and the coverage it
    gives, each beside its prediction, against the coverage with the true variance and with the
    rescaled estimate; how many-fold leave-one-out over-estimates; and which estimate ``sigma_lib``
    uses where."""
    worst = sxi.loc[sxi.coverage_in_sample.idxmin()]
    return (f"At $d$ = {int(worst.d)}, $m$ = {int(worst.m)} the in-sample estimate averages "
            f"**{worst.ratio_in_sample:.0%}** of the true variance (predicted {worst.in_sample_factor:.0%}) and the "
            f"interval built on it covers **{worst.coverage_in_sample:.0%}** (predicted "
            f"{worst.coverage_in_sample_predicted:.0%}), against {worst.coverage_true:.0%} with the true variance and "
            f"{worst.coverage_rescaled:.0%} with the rescaled estimate. Leave-one-out over-estimates the variance "
            f"{sxi.ratio_leave_one_out.min():.1f} to {sxi.ratio_leave_one_out.max():.0f}-fold here, so its interval "
            "over-covers. `sigma_lib` keeps the in-sample estimate as the default of `estimate_sigma_xi` (the spec's "
            "choice) and uses the rescaled one in the interval below.")


def unit_norm_bias_sentence(ng) -> str:
    """The bias of the paper's plug-in on unit-norm isotropic columns (the first ``unit_isotropic``
    row of the ``theorem3_non_gaussian_bias`` table): measured, against the Gaussian ``D`` and the
    moment-corrected offset (with the true and the estimated sigma_xi), each off by so many standard
    errors; and the width of the Gaussian interval against the measured spread."""
    u = ng[ng.kind == "unit_isotropic"].iloc[0]

    def off(pred, r):
        return abs(pred - r.bias_measured) / r.bias_measured_se

    return (f"Unit-norm isotropic columns, $d$ = {u.d}, $m$ = {u.m}, $N$ = {u.N}: measured bias "
            f"**{u.bias_measured:.4f} ± {u.bias_measured_se:.4f}** nats; the Gaussian $D$ predicts "
            f"{u.bias_gaussian:.4f} ({off(u.bias_gaussian, u):.0f} standard errors off), the moment-corrected offset "
            f"{u.bias_moment_true:.4f} with the true $\\sigma_\\xi = 0$ ({off(u.bias_moment_true, u):.1f} s.e.) and "
            f"{u.bias_moment_estimated:.4f} with $\\sigma_\\xi$ estimated from the block. The Gaussian interval is "
            f"also far too wide there (sd {u.sd_gaussian:.3f} against a measured {u.sd_measured:.3f}); the "
            "moment-corrected one is narrower but still conservative, because the rescaled $\\hat\\sigma_\\xi^2$ of a "
            "law with $\\sigma_\\xi = 0$ is the noise of $G_m/m$, not zero.")


def non_gaussian_lines(ng) -> str:
    """One Markdown bullet per row of the ``theorem3_non_gaussian_bias`` table other than unit-norm
    isotropic columns (its ``columns`` column names them): the measured bias against the Gaussian and
    the moment-corrected predictions, and the coverage of the two intervals."""
    def summary(r):
        return (f"{r.columns} at $d$ = {r.d}: bias {r.bias_measured:.3f} measured, {r.bias_gaussian:.3f} Gaussian, "
                f"{r.bias_moment_estimated:.3f} moment-corrected; coverage {r.coverage_gaussian:.0%} (Gaussian "
                f"correction) against {r.coverage_moment:.0%} (moment-corrected)")

    return "\n".join(f"- {summary(r)}." for r in ng[ng.kind != "unit_isotropic"].itertuples())


def block_size_sentence(need, est) -> str:
    """How large an observed block the paper's interval needs: at the largest ``d`` of ``need`` (the
    ``theorem3_clt_block_size`` table) the ``m`` at which it reaches 90 % coverage, also as a multiple
    of ``d^3``; against the range of coverage the bias-corrected interval reached in the
    ``theorem3_coverage`` table ``est``, and the range of ``m`` there."""
    big = need.iloc[-1]
    return (f"At $d$ = {big.d} the paper's interval reaches 90 % coverage only at $m$ = **{big['m_for_0.90']:,}** "
            f"observed columns ({big['m_for_0.90'] / big.d**3:.2f} $d^3$); the bias-corrected interval needs no such "
            f"$m$: it covered {est.coverage_corrected.min():.0%} to {est.coverage_corrected.max():.0%} in the "
            f"Theorem 3 table above, at $m$ from {est.m.min()} to {est.m.max()}.")


def moment_interval_sentence(ng, z: float = 2.0) -> str:
    """Where the moment-corrected 95 % interval can be used, from the ``theorem3_non_gaussian_bias``
    table (its ``columns`` column names the rows): per row, its coverage against 95 % in standard errors
    (``coverage_se``): within ``z`` s.e. (use it), above (over-covers: conservative, wider than needed)
    or below (under-covers: too narrow, by so many s.e.); and in how many rows it is closer to 95 % than
    the Gaussian correction."""
    def where(rows, short=False):
        groups: dict = {}
        for r in rows.itertuples():
            groups.setdefault(r.columns, []).append(
                f"{r.coverage_moment:.3f} at $d$ = {r.d}"
                + (f", {(0.95 - r.coverage_moment) / r.coverage_se:.1f} s.e. below 95 %" if short else ""))
        return " and ".join(f"{label} ({'; '.join(cells)})" for label, cells in groups.items())

    off = (ng.coverage_moment - 0.95) / ng.coverage_se
    near, over, under = ng[off.abs() <= z], ng[off > z], ng[off < -z]
    parts = []
    if len(near):
        parts.append(f"it covers within {z:g} s.e. of 95 % on {where(near)}: there it is the interval to use")
    if len(over):
        parts.append(f"it over-covers on {where(over)}: there it is conservative, wider than it needs to be")
    if len(under):
        parts.append(f"it under-covers on {where(under, short=True)}: there it is too narrow, and an interval from "
                     "it is indicative only")
    gap_m, gap_g = (ng.coverage_moment - 0.95).abs(), (ng.coverage_gaussian - 0.95).abs()
    return (f"Which interval to use depends on the columns (coverage of the moment-corrected 95 % interval, "
            f"standard error about {ng.coverage_se.iloc[0]:.3f}): " + "; ".join(parts) + ". It is closer to 95 % "
            f"than the Gaussian correction in {int((gap_m < gap_g).sum())} of the {len(ng)} rows, as close in "
            f"{int((gap_m == gap_g).sum())} and farther in {int((gap_m > gap_g).sum())}.")
