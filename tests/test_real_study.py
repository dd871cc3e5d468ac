"""The replicated real-LM study's run-to-run tables (sigma_lib.report.real_study)."""
import math

import pytest

from sigma_lib.report import real_study as rst


def rows(setting, values_by_seed, signal="drift_U", sd=0.5):
    """Rows of load_study's shape: ``values_by_seed[k][g]`` is seed k's value at generation g."""
    return [{"replicate": f"seed-{k}", "setting": setting, "generation": g, "signal": signal, "value": v,
             "change": v - vals[0], "sd": sd} for k, vals in enumerate(values_by_seed) for g, v in enumerate(vals)]


def study():
    """S2 leaves new-real on Track II from g1 (g3 from g1) and on distinct-2 from g2; S1 moves as new-real."""
    return (rows("S2", [[0, -15, -20, -30], [0, -16, -22, -33], [0, -17, -19, -29]])
            + rows("new-real", [[0, -8, -9, -10], [0, -7, -8, -9], [0, -9, -10, -11]])
            + rows("S1", [[0, -8, -9, -10], [0, -7, -8, -9], [0, -9, -10, -11]])
            + rows("S2", [[0.6, 0.6, 0.4, 0.3], [0.6, 0.61, 0.41, 0.31], [0.6, 0.59, 0.42, 0.3]], signal="distinct_2")
            + rows("new-real", [[0.6, 0.6, 0.6, 0.6], [0.6, 0.61, 0.6, 0.61], [0.6, 0.59, 0.6, 0.6]],
                   signal="distinct_2"))


def test_first_signal_table_reads_each_setting_and_baseline():
    table = rst.first_signal_table(rst.against_control(study()))
    by = {r["signal"]: r for r in table}
    track2, d2 = by[rst.LABELS["drift_U"]], by[rst.LABELS["distinct_2"]]
    assert track2["S2 from g0"] == "1" and track2["S1 from g0"] == "never"
    assert track2["S2 from g1"] == "3 (last only)"  # g3 is the last generation: one generation carries it
    assert d2["S2 from g0"] == "2" and d2["S1 from g0"] == "–"  # S1 has no distinct-2 rows here
    assert [r["signal"] for r in table] == [rst.LABELS["drift_U"], rst.LABELS["distinct_2"]]  # LABELS order


def test_one_seed_gives_no_interval_and_says_so():
    one = [r for r in study() if r["replicate"] == "seed-0"]
    table = rst.first_signal_table(rst.against_control(one))
    assert {r["S2 from g0"] for r in table} == {"one seed"}
    assert "only one seed" in rst.first_signal_sentence(table)
    assert rst.surface_sentence(table) == ""
    assert {s["trend"] for s in rst.study_slopes(one)} == {"one seed"}


def test_sentences_name_the_separating_signals_and_a_surface_signal_that_leads():
    table = rst.first_signal_table(rst.against_control(study()))
    sentence = rst.first_signal_sentence(table)
    assert sentence.startswith("against the spread between seeds, 2 of 2 signals separate S2 from new-real")
    assert "Track II" in sentence and "from $g$ = 1" in sentence
    # from g0 Track II (g1) leads distinct-2 (g2); from g1 distinct-2 (g2) leads Track II (g3)
    assert rst.surface_sentence(table).startswith(
        "A cheap surface signal discriminates better than Sigma on one of the two baselines: measured from "
        "generation 0, no surface signal separates S2 from new-real before Sigma's tracks do (Track II from $g$ = 1); "
        "measured from generation 1, distinct-2 (from $g$ = 2) separates S2")
    lead = [dict(r, **{"S2 from g0": "never", "S2 from g1": "never"}) if r["signal"] == rst.LABELS["drift_U"] else r
            for r in table]
    assert rst.surface_sentence(lead).startswith("A cheap surface signal discriminates better than Sigma here: ")
    # Sigma is both tracks: a surface signal must come before Track I too
    track1 = {"signal": rst.LABELS["drift_gamma_kf"], "S2 from g0": "1", "S2 from g1": "1"}
    assert rst.surface_sentence(lead + [track1]).startswith("No cheap surface signal discriminates better than Sigma")
    # ... and before Track II with the second encoder
    hidden = {"signal": rst.LABELS[rst.HIDDEN], "S2 from g0": "1", "S2 from g1": "1"}
    assert rst.surface_sentence(lead + [hidden]).startswith("No cheap surface signal discriminates better than Sigma")
    assert "Track II with $\\theta_0$'s hidden states from $g$ = 1" in rst.surface_sentence(lead + [hidden])
    assert "no signal separates S1" in rst.first_signal_sentence(table, setting="S1")


def test_slopes_from_generation_one_with_a_trend():
    slopes = {(s["setting"], s["signal"]): s for s in rst.study_slopes(study())}
    s2 = slopes[("S2", rst.LABELS["drift_U"])]
    assert s2["slope"] == pytest.approx(-22 / 3) and s2["trend"] == "falls" and s2["replicates"] == 3
    assert slopes[("new-real", rst.LABELS["drift_U"])]["trend"] == "falls"


def test_differences_wide_is_the_paired_difference_with_its_interval():
    diffs = rst.against_control(study())
    wide = {(r["setting"], r["generation"]): r for r in rst.differences_wide(diffs)}
    at3 = wide[("S2 − new-real", 3)]
    assert at3["drift_U"] == pytest.approx(-20.667, abs=1e-3)
    d = next(d for d in diffs if d["setting"] == "S2" and d["generation"] == 3 and d["signal"] == "drift_U"
             and d["baseline"] == 0)
    assert at3["drift_U_sd"] == pytest.approx((d["high"] - d["low"]) / 4) and not math.isnan(at3["drift_U_sd"])


def test_seeds_per_setting_counts_replicates():
    two = [r for r in study() if not (r["setting"] == "S1" and r["replicate"] == "seed-2")]
    assert rst.seeds_per_setting(two) == {"S2": 3, "new-real": 3, "S1": 2}


def test_load_study_adds_the_frechet_distance_of_every_committed_checkpoint():
    from sigma_lib.report.replicates import find_real_replicates

    runs = find_real_replicates()
    if not runs:
        pytest.skip("no committed run of the replicated study")
    name = next(iter(runs))
    folders = runs[name][:1]
    import numpy as np

    from sigma_lib.recursion.checkpoint import generation_dir, load_embeddings

    reference = load_embeddings(generation_dir(folders[0], "base", 0))[:120]  # any (n, d) reference will do
    series = rst.load_study({name: folders}, reference=reference, n_draws=0)
    fd = [r for r in series if r["signal"] == rst.FRECHET]
    other = [r for r in series if r["signal"] == "drift_U"]
    assert len(fd) == len(other) > 0 and all(math.isnan(r["sd"]) for r in fd)
    g0 = next(r for r in fd if r["generation"] == 0)
    assert g0["change"] == 0.0 and np.isfinite(g0["value"])


def test_in_words_and_the_study_sentence():
    table = rst.first_signal_table(rst.against_control(study()))
    words = rst.in_words(table, rst.paired_seeds(rst.against_control(study())))
    assert words.startswith("Against the spread between seeds, S2 separates from new-real (over the 3 seeds that "
                            "have both) on 2 of 2 signals from generation 0 (Track II drift $\\Delta U$ (nats) from "
                            "$g$ = 1, distinct-2 from $g$ = 2) and on 2 of 2 signals from generation 1 (distinct-2 "
                            "from $g$ = 2")
    assert "; S1 separates from new-real (over the 3 seeds that have both) on no signal" in words
    assert words.endswith("before either of Sigma's tracks does (Track II at $g$ = 3, the last generation, only).")
    assert words.count("Against the spread between seeds") == 1
    two_new_real = [r for r in study() if r["setting"] != "new-real" or r["replicate"] != "seed-2"]
    paired = rst.paired_seeds(rst.against_control(two_new_real))
    assert rst.study_sentence(table, paired).startswith(
        "over the 2 seeds of the replicated study that have both S2 and new-real, against the spread between seeds")


def test_frechet_sentence_reads_the_last_generation():
    rows_ = [{"setting": "S2", "generation": g, "frechet": 1.0 + g / 10, "frechet_change": g / 10} for g in range(3)]
    assert rst.frechet_sentence(rows_, band=0.01, replicate="seed-0") == (
        "At generation 2 (seed-0): S2 1.200 (change +0.200), band ±0.020 around each checkpoint. A lower distance "
        "is closer to held-out TECH text: S2 moved away from it.")
    closer = [dict(r, setting="new-real", frechet_change=-r["frechet_change"]) for r in rows_]
    assert "new-real 1.200 (change −0.200)" in rst.frechet_sentence(closer, band=0.01, replicate="seed-0")
    assert "new-real moved closer to it" in rst.frechet_sentence(closer, band=0.01, replicate="seed-0")


def test_one_run_sentence_counts_separations_and_control_shares():
    from sigma_lib.report import controls as ctl

    one = [dict(r, sd=0.1, signal=key) for key, _, _, _ in ctl.SIGNALS
           for r in study() if r["replicate"] == "seed-0" and r["signal"] == "drift_U" and r["setting"] != "S1"]
    sentence = rst.one_run_sentence(one, ctl.verdict_table(one), replicate="seed-0")
    assert sentence.startswith("in the replicated study's seed-0 (S2, new-real; 3 generations; one run's bands)")
    assert "new-real moves Track II 0.33 times as much as S2" in sentence  # -10 against -30
    assert "S2 separates from new-real on 5 of 7 signals" in sentence  # the five that fall under collapse


def test_new_real_provenance_counts_repeats_and_overlaps(tmp_path):
    import json

    from sigma_lib.corpus.assets import load_contexts

    held = load_contexts(split="heldout")[0]["id"]
    folder = tmp_path / "seed-0" / "new-real"
    for g, ids in ((1, ["a", "b"]), (2, ["c", "a"]), (3, ["d", held])):
        (folder / "new-real" / f"gen_{g:03d}").mkdir(parents=True)
        (folder / "new-real" / f"gen_{g:03d}" / "metrics.json").write_text(json.dumps({"real_context_ids": ids}))
    row = rst.new_real_provenance({"seed-0": [folder]})[0]
    assert row == {"seed": "seed-0", "generations": 3, "windows per generation": 2, "repeated across generations": 1,
                   "also held out": 1, "also training contexts": 0}


def test_the_committed_new_real_control_trains_on_new_unused_text_every_generation():
    from sigma_lib.report.replicates import find_real_replicates

    rows = rst.new_real_provenance(find_real_replicates())
    if not rows:
        pytest.skip("no committed new-real run")
    for r in rows:
        assert r["repeated across generations"] == r["also held out"] == r["also training contexts"] == 0
        assert r["generations"] >= 1 and r["windows per generation"] > 0


def test_provenance_sentence_says_when_the_control_reuses_text():
    good = {"seed": "seed-0", "repeated across generations": 0, "also held out": 0, "also training contexts": 0}
    assert rst.provenance_sentence([good]).startswith("In every seed (seed-0) new-real trained on new TECH windows")
    bad = dict(good, seed="seed-1", **{"also held out": 2})
    assert "not what its name says in seed-1" in rst.provenance_sentence([good, bad])


def test_in_words_says_once_that_one_seed_gives_no_interval():
    one = [r for r in study() if r["replicate"] == "seed-0"]
    assert rst.in_words(rst.first_signal_table(rst.against_control(one))) == (
        "S2 and S1 share only one seed with new-real so far: no run-to-run interval yet.")


def test_a_claim_resting_on_one_seed_is_untestable_against_run_to_run_noise():
    from sigma_lib.report import controls as ctl
    from sigma_lib.report.claims import UNTESTABLE

    series = [dict(r, signal=key) for key, _, _, _ in ctl.SIGNALS for r in study() if r["signal"] == "drift_U"]
    one = [r for r in series if r["replicate"] == "seed-0"]
    assert {c["verdict"] for c in rst.real_claims(one, {})} == {UNTESTABLE}
    judged = {c["id"]: c for c in rst.real_claims(series, {})}
    assert judged["E4"]["runs"] == 3 and judged["E4"]["verdict"] != UNTESTABLE


def test_in_words_names_a_one_seed_setting_once():
    two_s2 = [r for r in study() if r["setting"] != "S1" or r["replicate"] == "seed-0"]
    words = rst.in_words(rst.first_signal_table(rst.against_control(two_s2)))
    assert words.count("S1 shares only one seed with new-real") == 1
    assert "from generation 0 (" in words and "from generation 1 (" in words  # S2 from g0 and from g1


def test_a_committed_seed_recomputes_to_its_stored_table_on_the_shared_index_sets():
    # seed-1's runs use seed 0's index sets (index_seed = 0): recomputing with seed 1's would differ by nats
    from sigma_lib.report.replicates import find_real_replicates

    runs = {k: [f for f in v if f.name == "S2"] for k, v in find_real_replicates().items() if k == "seed-1"}
    if not runs.get("seed-1"):
        pytest.skip("no committed seed-1 S2 run")
    rows = rst.recomputation_check(runs)
    assert [(r["seed"], r["setting"], r["agrees"]) for r in rows] == [("seed-1", "S2", True)]
    assert rows[0]["largest difference"] < 1e-9
    assert rows[0]["checkpoints"] >= 2
    assert "give the engine's tables to better than 1e-9 " in rst.recomputation_sentence(rows)
    ends = rst.recomputation_check(runs, ends_only=True)[0]
    assert ends["checkpoints"] == 2 and ends["agrees"]  # generation 0 and the last


def test_recomputation_sentence_names_a_folder_that_differs():
    rows = [{"seed": "seed-0", "setting": "S2", "checkpoints": 11, "largest difference": 1e-12, "agrees": True},
            {"seed": "seed-1", "setting": "S1", "checkpoints": 11, "largest difference": 0.25, "agrees": False}]
    text = rst.recomputation_sentence(rows)
    assert "seed-1 S1" in text and "seed-0" not in text and "0.25" in text


def test_one_separating_signal_takes_a_singular_verb():
    table = [{"signal": "distinct-2", "S2 from g0": "3"}, {"signal": "RankMe", "S2 from g0": "never"}]
    assert rst.first_signal_sentence(table) == ("against the spread between seeds, 1 of 2 signals separates S2 from "
                                                "new-real (change from generation 0): distinct-2 from $g$ = 3")


def longer_seed_0():
    """Seed 0 runs S2 and new-real to generation 6, seeds 1 and 2 to generation 3."""
    return (rows("S2", [[0, -15, -20, -30, -35, -40, -45], [0, -16, -22, -33], [0, -17, -19, -29]])
            + rows("new-real", [[0, -8, -9, -10, -10, -11, -12], [0, -7, -8, -9], [0, -9, -10, -11]]))


def test_statistics_over_seeds_stop_at_the_generations_every_seed_has():
    series = longer_seed_0()
    assert {r["generation"] for r in rst.study_summary(series)} == {0, 1, 2, 3}
    assert {d["generation"] for d in rst.against_control(series)} == {0, 1, 2, 3}
    assert rst.first_signal_table(rst.against_control(series))[0]["S2 from g0"] == "1"  # not "one seed"
    s2 = next(s for s in rst.study_slopes(series) if s["setting"] == "S2")
    assert s2["slope"] == pytest.approx(-22 / 3)  # every seed's slope over g1-g3, as in study()


def test_a_seed_run_further_is_described_after_the_shared_generations():
    rows_ = rst.beyond_shared(longer_seed_0())
    assert [(r["seed"], r["setting"]) for r in rows_] == [("seed-0", "S2"), ("seed-0", "new-real")]
    s2 = rows_[0]
    assert (s2["shared_generation"], s2["last_generation"]) == (3, 6)
    assert s2["change_after_shared"] == -15 and s2["slope_after_shared"] == pytest.approx(-5)
    assert s2["between_seed_sd_at_shared"] == pytest.approx(2.0816659994661326)  # sd of -30, -33, -29
    words = rst.beyond_shared_sentence(rows_)
    assert rows_[0]["minus_control_after_shared"] == -13 and math.isnan(rows_[1]["minus_control_after_shared"])
    assert "seed-0's S2 and new-real ran on to $g$ = 6" in words and "S2 −15, new-real −2, S2 − new-real −13" in words
    assert "not verdicts" in words
    assert rst.beyond_shared([r for r in longer_seed_0() if r["generation"] <= 3]) == []


def test_one_signal_of_the_first_signal_table_in_words():
    table = rst.first_signal_table(rst.against_control(study()))
    assert rst.signal_in_words(table, "drift_U") == (
        "it separates S2 from new-real from $g$ = 1 (changes from generation 0) and at $g$ = 3, the last generation, "
        "only (from generation 1); "
        "it never separates S1 from new-real (changes from generation 0 or 1)")
    assert rst.signal_in_words(table, "distinct_2").startswith(
        "it separates S2 from new-real from $g$ = 2 (changes from generation 0 or 1)")


def test_a_signal_that_separates_on_one_baseline_only_says_which():
    row = {"signal": rst.LABELS["drift_U"], "S2 from g0": "never", "S2 from g1": "10 (last only)",
           "S1 from g0": "4", "S1 from g1": "never"}
    assert rst.signal_in_words([row], "drift_U") == (
        "it separates S2 from new-real at $g$ = 10, the last generation, only (changes from generation 1) and "
        "never with changes from generation 0; "
        "it separates S1 from new-real from $g$ = 4 (changes from generation 0) and never with changes from "
        "generation 1")


def test_a_seed_that_carries_one_setting_further_is_described_per_setting():
    from sigma_lib.report import controls as ctl

    series = [r for r in longer_seed_0() if not (r["setting"] == "new-real" and r["generation"] > 4)]
    words = rst.beyond_shared_sentence(rst.beyond_shared(series))
    assert "seed-0 ran on: S2 to $g$ = 6, new-real to $g$ = 4." in words
    assert "to each setting's last generation" in words
    one = [dict(r, sd=0.1, signal=key) for key, _, _, _ in ctl.SIGNALS
           for r in series if r["replicate"] == "seed-0" and r["signal"] == "drift_U"]
    assert ctl.control_shares(one, "drift_U") == {"new-real": pytest.approx(-10 / -35)}  # at g = 4, both have it
    sentence = rst.one_run_sentence(one, ctl.verdict_table(one), replicate="seed-0")
    assert "(S2, new-real; S2 6, new-real 4 generations; one run's bands)" in sentence


def test_the_second_encoder_is_said_beside_the_first():
    hidden = [dict(r, signal=rst.HIDDEN, value=2 * r["value"], change=2 * r["change"])
              for r in study() if r["signal"] == "drift_U"]
    diffs = rst.against_control(study() + hidden)
    table = rst.first_signal_table(diffs)
    assert [r["signal"] for r in table][:1] == [rst.LABELS["drift_U"]] and rst.LABELS[rst.HIDDEN] in [
        r["signal"] for r in table]
    words = rst.second_encoder_sentence(diffs, table)
    assert words.startswith("With all-MiniLM-L6-v2, Track II's S2 − new-real is −20.7 nats at $g$ = 3 "
                            "(95 % interval −28.3 to −13.1, 3 seeds)")
    assert "With $\\theta_0$'s hidden states, Track II's S2 − new-real is −41.3 nats at $g$ = 3" in words
    assert rst.second_encoder_sentence(rst.against_control(study()), table) == ""
    assert rst.hidden_state_root("runs/real-rep").as_posix() == "runs/real-rep-hidden"


def test_a_seed_whose_settings_start_from_two_generation_0s_is_named(tmp_path):
    import json

    runs = {}
    for seed, digests in (("seed-0", {"S2": "a", "new-real": "b", "S1": "b"}), ("seed-1", {"S2": "c", "S1": "c"})):
        runs[seed] = []
        for setting, digest in digests.items():
            folder = tmp_path / seed / setting
            folder.mkdir(parents=True)
            (folder / "checksums.json").write_text(json.dumps({"base/gen_000/responses.jsonl": digest}))
            runs[seed].append(folder)
    words = rst.baseline_sentence(runs)
    assert words.startswith("Not every seed's settings start from the same generation 0: "
                            "in seed-0 (S2 | new-real, S1) the")
    assert "seed-1" not in words
    assert rst.baseline_sentence({"seed-1": runs["seed-1"]}).startswith("Within every seed, all committed settings")
