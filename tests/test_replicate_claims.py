"""The paper's claims judged against run-to-run noise (sigma_lib.report.replicate_claims) and the
one interval rule both judges use (claims.judge_interval)."""
import math

import pytest

from sigma_lib.report import claims
from sigma_lib.report import replicate_claims as rc
from sigma_lib.report import replicates as rep
from sigma_lib.report.controls import SIGNAL_LABELS


def test_judge_interval_reads_the_side_of_zero():
    assert claims.judge_interval(-3, -1, sign=-1) == claims.HOLDS
    assert claims.judge_interval(1, 3, sign=-1) == claims.FAILS
    assert claims.judge_interval(-1, 1, sign=-1) == claims.WITHIN
    assert claims.judge_interval(1, 3, sign=+1) == claims.HOLDS
    assert claims.judge_interval(-2, 0, sign=-1) == claims.WITHIN  # touching zero is not beyond it
    with pytest.raises(ValueError, match="sign"):
        claims.judge_interval(0, 1, sign=0)


def test_both_needs_each_and_fails_on_either():
    assert claims.both(claims.HOLDS, claims.HOLDS) == claims.HOLDS
    assert claims.both(claims.HOLDS, claims.FAILS) == claims.FAILS
    assert claims.both(claims.WITHIN, claims.HOLDS) == claims.WITHIN


def series(changes, *, signals=("drift_U", "drift_gamma_kf", "distinct_2", "hhi")):
    """Rows for replicate_claims: ``changes[replicate][setting]`` is a list of per-generation changes
    (generation 0 first, 0.0), the same for every signal with the sign of its collapse direction."""
    sign = {"hhi": -1}
    rows = []
    for name, by_setting in changes.items():
        for setting, values in by_setting.items():
            for g, v in enumerate(values):
                for s in signals:
                    rows.append({"replicate": name, "setting": setting, "generation": g, "signal": s,
                                 "value": sign.get(s, 1) * v, "change": sign.get(s, 1) * v, "sd": 0.1})
    return rows


def by_id(rows):
    return {r["id"]: r for r in rows}


def test_consistent_runs_hold_and_noisy_runs_are_within_noise():
    steady = {f"seed-{k}": {"S1": [0, -10 - k, -20 - k], "S2": [0, -10 - k, -40 - k]} for k in range(3)}
    out = by_id(rc.replicate_claims(series(steady)))
    assert out["E1"]["verdict"] == claims.HOLDS and out["E1"]["runs"] == 3
    assert out["E4"]["verdict"] == claims.HOLDS          # S2 - S1 = -20 in every run
    assert out["E8"]["verdict"] == claims.HOLDS
    assert out["E10"]["verdict"] == claims.HOLDS          # hhi rises where the others fall
    assert out["E3"]["verdict"] == claims.UNTESTABLE
    assert out["E12"]["verdict"] == claims.UNTESTABLE     # every signal leaves at generation 1
    noisy = {"seed-0": {"S1": [0, -5, -30], "S2": [0, -5, -10]}, "seed-1": {"S1": [0, 5, 25], "S2": [0, 5, 12]}}
    out = by_id(rc.replicate_claims(series(noisy)))
    assert out["E1"]["verdict"] == claims.WITHIN
    assert "[" in out["E1"]["value"]


def test_one_run_gives_no_interval():
    out = by_id(rc.replicate_claims(series({"seed-0": {"S1": [0, -1, -2], "S2": [0, -1, -3]}})))
    assert out["E1"]["verdict"] == claims.WITHIN and "no interval" in out["E1"]["value"]


def test_last_common_generation_is_the_shortest_replicate():
    rows = series({"a": {"S1": [0, -1, -2, -3]}, "b": {"S1": [0, -1]}})
    assert rc.last_common_generation(rows, "S1") == 1
    assert rc.last_common_generation(rows, "S2") is None


def test_creative_margin():
    rows = [{"setting": "S1", "generation": 2, "bucket": b, "drift_U": v}
            for b, v in (("Creative", -9.0), ("Neutral", -3.0), ("Analogy", -1.0))]
    assert rc.creative_margin(rows) == pytest.approx(-7.0)
    assert rc.creative_margin([r for r in rows if r["bucket"] != "Creative"]) is None


def test_compare_and_sentence_name_the_changed_verdicts():
    one = [{"id": "E1", "claim": "c", "value": "v", "verdict": claims.HOLDS},
           {"id": "E4", "claim": "c", "value": "v", "verdict": claims.WITHIN}]
    across = [{"id": "E1", "value": "x", "verdict": claims.WITHIN, "runs": 3},
              {"id": "E4", "value": "x", "verdict": claims.WITHIN, "runs": 3}]
    compared = rc.compare_verdicts(one, across)
    assert [c["changed"] for c in compared] == ["yes", ""]
    text = rc.changed_sentence(compared, reference="seed-0", n_runs=3)
    assert "1 of the 2 verdicts" in text and claims.SHORT_NAMES["E1"] in text and "holds → within noise" in text
    assert "verdicts that seed-0 gives against its own bands changes:" in text  # one verdict: the verb agrees
    unchanged = rc.compare_verdicts(one, across[1:])
    assert "none of the 1 verdicts" in rc.changed_sentence(unchanged, reference="seed-0", n_runs=3)
    both = rc.compare_verdicts(one, [dict(a, verdict=claims.WITHIN if a["id"] == "E1" else claims.HOLDS)
                                     for a in across])
    assert "2 of the 2 verdicts that seed-0 gives against its own bands change:" in rc.changed_sentence(
        both, reference="seed-0", n_runs=3)


def test_controls_across_runs_needs_two_runs_with_the_control():
    changes = {f"seed-{k}": {"S2": [0, -10 - k, -20 - k], "repeat-real": [0, -1, -1 + 0.1 * k]} for k in range(3)}
    rows = series(changes, signals=("drift_U",))
    label = SIGNAL_LABELS["drift_U"]
    one_run = [{"signal": label, "S2 vs repeat-real": None}]   # one run alone: not separated
    out = rc.controls_across_runs(rows, one_run=one_run)
    assert len(out) == 1 and out[0]["over runs"] == "separates" and out[0]["changed"] == "yes"
    assert out[0]["runs"] == 3 and out[0]["high"] < 0
    single = rc.controls_across_runs([r for r in rows if r["replicate"] == "seed-0"], one_run=one_run)
    assert single[0]["over runs"] == "one run: no interval" and single[0]["changed"] == ""
    assert math.isnan(single[0]["low"])
    assert "only one run" in rc.controls_sentence(single, reference="seed-0")


def test_find_replicates_reads_the_committed_seeds():
    found = rep.find_replicates("test")
    if not found.paths:
        pytest.skip("no committed replicates in this checkout")
    assert "seed-0" not in found.paths                    # the test profile does not read the book's run
    assert set(found.all_varied) <= {"seed-1", "seed-2"} and found.reference == found.all_varied[0]
    assert set(found.independent()) == set(found.all_varied)
