"""One seed run on two CPU kinds: which folders pair up, and how their gap is read against the seeds."""
import math

import pytest

from sigma_lib.common.records import write_jsonl
from sigma_lib.report import cpu_realisations as cr

LABELS = {"drift_U": "Track II", "distinct_2": "distinct-2", "heldout_nll": "NLL"}


def _folder(root, seed, setting, texts):
    folder = root / seed / setting
    write_jsonl([{"text": t} for t in texts], folder / "base" / "gen_000" / "responses.jsonl")
    return folder


def test_only_settings_whose_generation_0_differs_pair_up(tmp_path):
    study = {"seed-0": [_folder(tmp_path / "a", "seed-0", "S2", ["x", "y", "z"]),
                        _folder(tmp_path / "a", "seed-0", "S1", ["x", "y", "z"])]}
    other = {"seed-0": [_folder(tmp_path / "b", "seed-0", "S2", ["x", "Y", "Z"]),
                        _folder(tmp_path / "b", "seed-0", "S1", ["x", "y", "z"])],
             "seed-9": [_folder(tmp_path / "b", "seed-9", "S2", ["x", "y", "z"])]}
    pairs = cr.realisation_pairs(study, other)
    assert [(p["seed"], p["setting"], p["differing_g0_responses"], p["g0_responses"]) for p in pairs] == [
        ("seed-0", "S2", 2, 3)]


def test_other_numbers_of_responses_are_named(tmp_path):
    a = _folder(tmp_path / "a", "seed-0", "S2", ["x", "y"])
    b = _folder(tmp_path / "b", "seed-0", "S2", ["x"])
    with pytest.raises(ValueError, match="2 and 1 responses"):
        cr.differing_responses(a, b)


def _rows(replicate, changes, signal="drift_U", setting="S2"):
    return [{"replicate": replicate, "setting": setting, "signal": signal, "generation": g, "value": c, "change": c,
             "sd": 1.0} for g, c in enumerate(changes)]


def test_gaps_are_read_in_units_of_the_gap_between_two_seeds():
    study = _rows("seed-0", [0, -10, -20]) + _rows("seed-1", [0, -12, -26]) + _rows("seed-2", [0, -14, -20])
    other = _rows("seed-0", [0, -12, -30, -40])  # a generation the study lacks is not compared
    pairs = [{"seed": "seed-0", "setting": "S2", "differing_g0_responses": 2, "g0_responses": 540}]
    gaps = cr.realisation_gaps(study, other, pairs, signals=("drift_U",))
    assert [(r["generation"], r["gap"]) for r in gaps] == [(1, 2), (2, 10)]
    assert gaps[0]["between_seed_sd"] == pytest.approx(2.0)
    assert gaps[1]["gap_in_seed_units"] == pytest.approx(10 / (math.sqrt(2) * math.sqrt(12)))
    (summary,) = cr.gap_summary(gaps)
    units = [g["gap_in_seed_units"] for g in gaps]
    assert summary["rms_gap_in_seed_units"] == pytest.approx(math.sqrt((units[0] ** 2 + units[1] ** 2) / 2))
    assert summary["last_generation"] == 2 and summary["gap_at_last"] == 10
    sentence = cr.realisation_sentence([summary], pairs, labels=LABELS)
    assert "seed-0's S2 starts from a generation 0 that differs in 2 of 540 responses" in sentence
    assert "of the order of the gap between two seeds" in sentence
    closer = [{**summary, "rms_gap_in_seed_units": 0.2}]
    assert "smaller than the gap between two seeds" in cr.realisation_sentence(closer, pairs, labels=LABELS)


def test_one_seed_gives_no_scale():
    study, other = _rows("seed-0", [0, -10]), _rows("seed-0", [0, -11])
    pairs = [{"seed": "seed-0", "setting": "S2", "differing_g0_responses": 1, "g0_responses": 540}]
    summary = cr.gap_summary(cr.realisation_gaps(study, other, pairs, signals=("drift_U",)))
    assert math.isnan(summary[0]["rms_gap_in_seed_units"])
    assert "no between-seed spread" in cr.realisation_sentence(summary, pairs, labels=LABELS)
    assert cr.realisation_sentence([], [], labels=LABELS) == ""


def test_the_committed_runs_of_seed_0_on_two_cpu_kinds_share_their_protocol_and_differ_at_generation_0():
    """The pair the real-LM chapter compares is one seed and one protocol (the configs differ only in
    how far each run went), and its generation 0 differs in a few responses, not in all."""
    import json
    from pathlib import Path

    from sigma_lib.report.replicates import find_real_replicates

    other = find_real_replicates(cr.OTHER_CPU_ROOT)
    assert other, f"{cr.OTHER_CPU_ROOT} holds no committed run"
    pairs = cr.realisation_pairs(find_real_replicates(), other)
    assert pairs, "no committed setting has two runs of one seed"
    for p in pairs:
        a, b = (json.loads((Path(p[k]) / "manifest.json").read_text())["config"] for k in ("study", "other"))
        assert {**a, "generations": 0} == {**b, "generations": 0}
        assert 0 < p["differing_g0_responses"] <= 0.02 * p["g0_responses"]
