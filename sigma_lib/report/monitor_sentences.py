"""The findings of the chapter "Monitor your own pipeline", each in words.

Every function takes the rows of the chapter's ``drift.csv`` (what ``sigma score --csv`` writes, read
back by :func:`sigma_lib.report.run_report.read_csv`) or the sizes behind them, and returns Markdown
for :meth:`~sigma_lib.report.book.Chapter.say`, so the prose of the chapter is computed, never typed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..maths.bias_correction import wishart_digamma_sum
from .book import fmt_sig


def _name(row: Mapping) -> str:
    return row.get("name") or Path(row["checkpoint"]).name


def track2_gaussian_offset(d: int, m: int) -> float:
    """``E[U] - log det Sigma`` for Gaussian columns, nats (ridge ``eps`` -> 0): ``d log 2 +
    sum_{i=1..d} psi((m-i+1)/2) - d log m``, the finite-sample bias of Track II (3.20) that dividing
    ``G_m`` by ``m`` leaves (:mod:`sigma_lib.maths.drift_bias`). It depends on ``d`` and ``m`` only."""
    if not m > d >= 1:
        raise ValueError(f"the offset needs m > d >= 1, got d={d}, m={m}")
    return float(d * np.log(2.0) + wishart_digamma_sum(m, d) - d * np.log(m))


def size_correction_sentence(d: int, m: int) -> str:
    """What Track II's division by ``m`` removes and what it leaves, at the page's ``d`` and ``m``: the
    Gaussian offset (:func:`track2_gaussian_offset`), its cancellation in a drift for Gaussian columns,
    and only in part for unit-norm ones (as the theorem chapter's drift-bias study finds)."""
    offset = track2_gaussian_offset(d, m)
    return (f"Track II divides $G_m$ by $m$, which removes the growth of $\\log\\det G_m$ with the block size "
            f"($d\\log m$) but not its finite-sample bias: at this example's $d$ = {d} and $m$ = {m}, $U$ lies, on "
            f"average, **{fmt_sig(abs(offset), 3)} nats {'below' if offset < 0 else 'above'}** $\\log\\det\\Sigma$ "
            "for Gaussian columns (exactly $d\\log 2 + \\sum_i \\psi(\\tfrac{m-i+1}{2}) - d\\log m$). For "
            "Gaussian columns that offset depends on $d$ and $m$ only, so it cancels in $\\Delta U$ between "
            "checkpoints scored with the same $m$; for unit-norm embeddings, what Sigma-UB scores, it also changes "
            "with their law, so part of it can remain in the drift ({ref}`sec-drift-bias` of the theorem chapter "
            "measures how much). The noise band does not include that part.")


def drift_band_sentence(scores: Sequence[Mapping]) -> str:
    """Each later checkpoint's Track II drift in units of its index-set sd (``noise_U``), whether it
    lies beyond twice that sd, and what the band does not cover: evaluation (re-sampled responses) and
    run-to-run noise, which this page does not measure (the chapters that do are named)."""
    later = [r for r in scores[1:] if r["noise_U"] > 0]
    if not later:
        return "No later checkpoint has an index-set band: nothing to judge."
    times = " and ".join(f"{fmt_sig(abs(r['drift_U']) / r['noise_U'], 2)} times that sd for {_name(r)}"
                         for r in later)
    beyond = [_name(r) for r in later if abs(r["drift_U"]) > 2 * r["noise_U"]]
    within = [_name(r) for r in later if abs(r["drift_U"]) <= 2 * r["noise_U"]]
    where = "; ".join(([f"beyond twice the band for {', '.join(beyond)}"] if beyond else [])
                      + ([f"within it for {', '.join(within)}"] if within else []))
    return (f"`noise_U` is the standard deviation of the drift over re-drawn observed index sets. Here "
            f"$|\\Delta U|$ is {times} ({where}). That band covers index-set noise only: how far a drift "
            "moves when the same model's responses are sampled again, and when the whole experiment is run again "
            "with another seed, is larger for Track II's drift, and is measured in {doc}`known_answers` "
            "(re-evaluation) and {doc}`replicates` (run to run), not on this page. A drift beyond the band is "
            "more than index-set chance; whether it is also more than those noises, this page cannot tell.")


def run_index_sets_sentence(scores: Sequence[Mapping], run_rows: Sequence[Mapping], run_config: Mapping, *,
                            seed: int, n_draws: int, settings: Mapping[str, str], run_name: str) -> str:
    """Whether the page's index sets are the committed run's, and what that implies, checked.

    ``sigma score`` draws the observed set and the re-drawn ones from ``(N, m, seed, n_draws)`` as
    Algorithm 1 does in a run (:class:`sigma_lib.maths.monitor.SigmaMonitor`), so the sets are the
    same when these are (the run's index-set seed: ``index_seed``, else ``seed``). ``settings`` maps a
    checkpoint file name to the run setting whose last generation it copies; its drift and noise band
    are compared with that row of the run's generations table (``run_rows``).
    """
    from ..recursion.config import index_seed_of

    run_seed = index_seed_of(run_config)
    ours = {"$N$": scores[0]["N"], "$m$": scores[0]["m"], "re-drawn sets": n_draws, "index-set seed": seed}
    theirs = {"$N$": run_rows[0]["N"], "$m$": run_config["m"], "re-drawn sets": run_config["n_draws"],
              "index-set seed": run_seed}
    last = {r["setting"]: r for r in sorted(run_rows, key=lambda r: r["generation"])
            if r["setting"] in settings.values()}
    pairs = [(r, last[settings[_name(r)]]) for r in scores if settings.get(_name(r)) in last]
    gap = max((abs(a[k] - b[k]) for a, b in pairs for k in ("drift_U", "noise_U")), default=float("nan"))
    rows = ", ".join(f"{s} at generation {last[s]['generation']}" for s in settings.values() if s in last)
    differs = [k for k in ours if ours[k] != theirs[k]]
    if differs:
        return (f"These index sets are not the run's: {', '.join(differs)} "
                f"{'differs' if len(differs) == 1 else 'differ'} from `{run_name}`'s "
                f"({', '.join(f'{k} {ours[k]} here, {theirs[k]} there' for k in differs)}), so $\\Delta U$ and its "
                f"band differ from those of the real-LM chapter ({rows}) by index-set noise: by up to "
                f"{fmt_sig(gap, 3)} nats here.")
    return (f"These index sets are the run's: `sigma score` draws them from $N$, $m$, the seed and the number of "
            f"re-drawn sets as Algorithm 1 does in the run, and all four are those of `{run_name}` "
            f"({', '.join(f'{k} = {v}' for k, v in ours.items())}). So $\\Delta U$ and its band are the real-LM "
            f"chapter's for the same responses ({rows})" + (
                f": they agree with the run's stored table to {fmt_sig(gap, 2)} nats." if pairs else "."))
