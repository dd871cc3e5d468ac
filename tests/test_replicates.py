"""Run-to-run statistics over replicate runs (sigma_lib.report.replicates)."""
import math

import numpy as np
import pytest
from scipy import stats

from sigma_lib.report import replicates as rep


def rows(setting, values_by_replicate, signal="drift_U", sd=0.5):
    """Rows of signal_series' shape: ``values_by_replicate[k][g]`` is replicate k's value at g."""
    return [{"replicate": f"seed-{k}", "setting": setting, "generation": g, "signal": signal, "value": v, "sd": sd}
            for k, vals in enumerate(values_by_replicate) for g, v in enumerate(vals)]


def test_t_interval_matches_scipy_and_refuses_nothing_to_say():
    x = [1.0, 2.0, 4.0]
    t = rep.t_interval(x)
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(x), scale=stats.sem(x))
    assert t["mean"] - t["half_width"] == pytest.approx(lo) and t["mean"] + t["half_width"] == pytest.approx(hi)
    one = rep.t_interval([3.0])
    assert one["mean"] == 3.0 and math.isnan(one["sd"]) and math.isnan(one["half_width"])
    with pytest.raises(ValueError, match="at least one value"):
        rep.t_interval([])
    with pytest.raises(ValueError, match="level must lie in"):
        rep.t_interval(x, level=1.5)


def test_summary_gives_between_and_index_set_noise_and_drift_from_generation_one():
    series = rows("S2", [[0, -10, -12], [0, -14, -18], [0, -12, -15]], sd=1.0)
    by = {(r["generation"], r["baseline"]): r for r in rep.replicate_summary(series)
          + rep.replicate_summary(series, baseline=1)}
    assert by[(2, 0)]["mean_change"] == pytest.approx(-15.0) and by[(2, 0)]["between_sd"] == pytest.approx(3.0)
    assert by[(2, 0)]["index_set_sd"] == 1.0 and by[(2, 0)]["between_over_index"] == pytest.approx(3.0)
    assert by[(2, 1)]["mean_change"] == pytest.approx(-3.0)  # the generation-1 jump removed
    assert (0, 1) not in by and by[(1, 1)]["mean_change"] == 0.0


def test_paired_difference_cancels_what_a_replicate_shares():
    # Each replicate has its own offset shared by both settings: paired, the difference is exact.
    offsets = [0.0, 30.0, -20.0]
    s2 = rows("S2", [[0, o - 5, o - 10] for o in offsets])
    ctl = rows("new-real", [[0, o - 1, o - 2] for o in offsets])
    diffs = {d["generation"]: d for d in rep.paired_differences(s2 + ctl, "new-real")}
    assert diffs[2]["difference"] == pytest.approx(-8.0) and diffs[2]["between_sd"] == pytest.approx(0.0, abs=1e-12)
    assert diffs[2]["beyond"] and diffs[1]["beyond"] and not diffs[0]["beyond"]
    first = rep.first_signal(list(diffs.values()))
    assert first == [{"signal": "drift_U", "setting": "S2", "control": "new-real", "baseline": 0,
                      "first_generation": 1, "generations": 2, "replicates": 3}]


def test_first_signal_needs_every_later_generation_beyond_and_the_collapse_direction():
    noisy = rows("S2", [[0, -5, 0, -9, -9], [0, -1, 0, -10, -11], [0, -6, 0, -8, -10]])
    ctl = rows("new-real", [[0, 0, 0, 0, 0]] * 3)
    first = rep.first_signal(rep.paired_differences(noisy + ctl, "new-real"))
    assert first[0]["first_generation"] == 3  # generation 2 returns to the control
    up = rows("S2", [[0, 1, 2], [0, 1.1, 2.1], [0, 0.9, 1.9]], signal="hhi")  # HHI rises under collapse
    down = rows("S2", [[0, -1, -2], [0, -1.1, -2.1], [0, -0.9, -1.9]], signal="hhi")
    flat = rows("new-real", [[0, 0, 0]] * 3, signal="hhi")
    assert rep.first_signal(rep.paired_differences(up + flat, "new-real"))[0]["first_generation"] == 1
    assert rep.first_signal(rep.paired_differences(down + flat, "new-real"))[0]["first_generation"] is None


def test_slopes_per_replicate_with_an_interval():
    series = rows("S2", [[0, -10, -12, -14], [0, -20, -23, -26], [0, -15, -17.5, -20]])
    s = rep.slopes(series)[0]
    assert s["slope"] == pytest.approx(-2.5) and s["replicates"] == 3 and s["low"] < -2.5 < s["high"]
    assert rep.slopes(series, first_generation=0)[0]["slope"] < -2.5  # the first jump steepens it


def test_noise_sources_split_the_spread():
    # seed-0 and kept differ by the recursion only; seed-1 and seed-2 also change theta_0.
    series = (rows("S2", [[0, -10]], sd=1.0) + [dict(r, replicate="kept") for r in rows("S2", [[0, -12]], sd=1.0)]
              + [dict(r, replicate=f"seed-{k}") for k, v in ((1, -20), (2, -30))
                 for r in rows("S2", [[0, v]], sd=1.0)])
    src = rep.noise_sources(series, all_varied=["seed-0", "seed-1", "seed-2"], recursion_only=["seed-0", "kept"],
                            reference="seed-0")[0]
    assert src["index_set_sd"] == 1.0 and src["recursion_sd"] == pytest.approx(np.std([-10, -12], ddof=1))
    assert src["all_varied_sd"] == pytest.approx(10.0) and src["all_varied_dof"] == 2
    assert src["theta0_sd"] == pytest.approx(np.sqrt(100 - 2 - 1))


def test_the_committed_seed_runs_are_verified_replicates_of_the_default_protocol():
    from pathlib import Path

    from sigma_lib.recursion.config import run_config
    from sigma_lib.recursion.export import verify_committed_run

    root = Path(__file__).resolve().parent.parent / "runs" / "default-seeds"
    runs = sorted(p for p in root.glob("*") if (p / "checksums.json").is_file()) if root.is_dir() else []
    if not runs:
        pytest.skip("runs/default-seeds is not in this checkout")
    configs = {"seed-0": run_config("default").as_dict()} | {p.name: verify_committed_run(p)["config"] for p in runs}
    table = {r["run"]: r for r in rep.replicate_table(configs)}
    assert all(r["used"] == "yes" for r in table.values()), table
    kept = table.get("seed-1-theta0-kept")
    if kept is not None:  # only the recursion's seed differs from seed 0
        assert (kept["recursion seed"], kept["theta_0 seed"], kept["index-set seed"]) == (1, 0, 0)


def _verdict_rows(changed, gained=()):
    """Rows of the chapter's s2_vs_s1 table: generations 2 and 3, the rows in ``changed`` flip (one run
    says S2 ahead, the runs no difference), those in ``gained`` the other way."""
    out = []
    for i, (signal, g) in enumerate([("distinct-2", 2), ("distinct-2", 3), ("HHI", 2), ("HHI", 3)]):
        runs = "no difference" if i in changed else ("S2 ahead" if i == 3 or i in gained else "no difference")
        one = "S2 ahead" if i in changed else ("no difference" if i in gained else runs)
        out.append({"signal": signal, "generation": g, "one run says": one, "runs say": runs,
                    "changed": "yes" if one != runs else ""})
    return out


def test_the_s2_against_s1_summary_counts_changed_verdicts_by_direction_and_signals_ahead():
    text = rep.s2_s1_summary(_verdict_rows({1}), 3)
    assert text == ("against the spread between 3 independent runs of the small model, 1 of 4 S2-against-S1 verdicts "
                    "(signal and generation) changes from what one run's own bands say (1 loses a difference one "
                    "run's bands showed, 0 gain one they did not show); at generation 3, S2 is ahead of S1 beyond "
                    "run-to-run noise for 1 of 2 signals")
    both = rep.s2_s1_summary(_verdict_rows({0, 1}, gained={2}), 3)
    assert "3 of 4 S2-against-S1 verdicts (signal and generation) change from" in both
    assert "(2 lose a difference one run's bands showed, 1 gains one they did not show)" in both
    assert "none" not in rep.s2_s1_summary(_verdict_rows(set()), 3) and "0 of 4" in rep.s2_s1_summary(
        _verdict_rows(set()), 3)


def test_the_changed_verdicts_are_named_by_direction_or_none_is_said():
    assert rep.changed_verdicts_sentence(_verdict_rows(set())) == (
        "No verdict changes when the band is the spread between runs.")
    text = rep.changed_verdicts_sentence(_verdict_rows({0, 1}))
    assert text == ("2 of the 4 verdicts change when the band is the spread between runs. In 2, one run's bands show a "
                    "difference that the spread between runs does not (one run is over-confident there): distinct-2 "
                    "at $g$ = 2 (S2 ahead → no difference); distinct-2 at $g$ = 3 (S2 ahead → no difference).")
    one = rep.changed_verdicts_sentence(_verdict_rows(set(), gained={2}))
    assert one == ("1 of the 4 verdicts changes when the band is the spread between runs. In 1, the runs show a "
                   "difference that one run's bands do not (those bands are wider than the spread between runs, too "
                   "cautious there): HHI at $g$ = 2 (no difference → S2 ahead).")
    flipped = _verdict_rows(set())
    flipped[3] = dict(flipped[3], **{"one run says": "S1 ahead", "changed": "yes"})
    assert "In 1, the runs reverse one run's verdict: HHI at $g$ = 3 (S1 ahead → S2 ahead)." in (
        rep.changed_verdicts_sentence(flipped))


def test_ratio_thresholds_are_the_chi_squared_bounds_of_a_sd_ratio():
    low, high = rep.ratio_thresholds(3)
    assert low == pytest.approx(np.sqrt(stats.chi2.ppf(0.025, 2) / 2)) and high == pytest.approx(
        np.sqrt(stats.chi2.ppf(0.975, 2) / 2))
    assert low < 1 < high and rep.ratio_thresholds(30)[1] < high  # more runs, a tighter test
    with pytest.raises(ValueError, match="at least two runs"):
        rep.ratio_thresholds(1)


def _summary_row(setting, signal, ratio, n=3):
    return {"setting": setting, "signal": signal, "generation": 4, "baseline": 0, "replicates": n,
            "between_over_index": ratio}


def test_the_spread_sentence_says_signal_by_signal_which_spreads_more_and_which_less():
    rows = ([_summary_row(s, "drift_U", r) for s, r in (("S1", 4.4), ("S2", 1.5))]
            + [_summary_row(s, "heldout_nll", r) for s, r in (("S1", 0.21), ("S2", 0.73))]
            + [_summary_row(s, "rankme", r) for s, r in (("S1", 2.0), ("S2", 0.12))]
            + [_summary_row("S1", "hhi", math.nan)])
    labels = {"drift_U": "Track II drift (nats)", "heldout_nll": "held-out NLL (nats/token)", "rankme": "RankMe"}
    text = rep.spread_sentence(rows, labels)
    # the old text said a re-run "would see more than that" for every signal
    assert ("Track II drift (1.5 to 4.4) spread more between runs than the one-run band says, in every setting; "
            "held-out NLL (0.21 to 0.73) spread less, in every setting; RankMe (0.12 to 2; below 1 in S2) more in "
            "some settings and less in others.") in text
    assert "With 3 runs a between-run sd has 2 degrees of freedom" in text and "above 1.92 or below 0.159" in text
    assert ("Of the 6 ratios, 2 above (Track II drift in S1; RankMe in S1), 1 below (RankMe in S2); the others cannot "
            "tell") in text
    assert "nothing to compare" in rep.spread_sentence([_summary_row("S1", "hhi", math.nan)], labels)
