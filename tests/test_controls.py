"""Settings beyond S1/S2 (issue 14): accumulate, accumulate-subsample and the alpha sweep, with
the same protocol, seeds, manifest and resume as S1/S2."""
import pytest

from sigma_lib.recursion.checkpoint import generation_dir, read_done
from sigma_lib.recursion.config import run_config
from sigma_lib.recursion.engine import RunInterrupted, run_experiment

QUIET = dict(progress=False, log=lambda s: None)
SETTINGS = "S2,repeat-real,accumulate,accumulate-subsample,S2-a0.5"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def controls_run(tmp_path_factory, cache):
    run_dir = tmp_path_factory.mktemp("controls") / "run"
    cfg = run_config("smoke", settings=SETTINGS, reseed_baseline=False)
    return run_dir, run_experiment(cfg, run_dir, cache, **QUIET)


def test_accumulate_trains_on_every_pool_so_far(controls_run):
    run_dir, tables = controls_run
    rows = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    n = 32  # contexts of the smoke profile
    assert rows[("accumulate", 1)]["n_real_blocks"] == n and rows[("accumulate", 1)]["n_synthetic_blocks"] == n
    assert rows[("accumulate", 2)]["n_real_blocks"] == n and rows[("accumulate", 2)]["n_synthetic_blocks"] == 2 * n
    assert rows[("accumulate", 2)]["start_params"] == rows[("accumulate", 1)]["end_params"]
    for g in (1, 2):
        assert (generation_dir(run_dir, "accumulate", g) / "pool_tokens.npy").is_file()


def test_accumulate_subsample_keeps_the_constant_budget(controls_run):
    _, tables = controls_run
    rows = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    for g in (1, 2):
        r = rows[("accumulate-subsample", g)]
        assert r["n_real_blocks"] + r["n_synthetic_blocks"] == 32
    assert rows[("accumulate-subsample", 2)]["end_params"] != rows[("accumulate", 2)]["end_params"]


def test_alpha_sweep_mixes_real_and_synthetic(controls_run):
    _, tables = controls_run
    r = {(x["setting"], x["generation"]): x for x in tables["generations"]}[("S2-a0.5", 1)]
    assert r["n_real_blocks"] == 16 and r["n_synthetic_blocks"] == 16


def test_the_new_settings_resume_to_identical_tables(controls_run, tmp_path, cache):
    ref_dir, _ = controls_run
    cfg = run_config("smoke", settings=SETTINGS, reseed_baseline=False)
    with pytest.raises(RunInterrupted):
        run_experiment(cfg, tmp_path / "run", cache, stop_after=("accumulate", 1), **QUIET)
    run_experiment(cfg, tmp_path / "run", cache, **QUIET)
    for name in ("generations.csv", "buckets.csv"):
        assert (tmp_path / "run" / "tables" / name).read_bytes() == (ref_dir / "tables" / name).read_bytes()
    read_done(generation_dir(tmp_path / "run", "accumulate", 2))


# The report layer's reading of such a run: every signal against its noise, and the verdict.

def test_signal_series_has_every_signal_with_its_noise(controls_run):
    from sigma_lib.report import controls as ctl

    run_dir, tables = controls_run
    series = ctl.signal_series(run_dir, n_draws=5, source="smoke")
    settings = {r["setting"] for r in series}
    assert settings == {"S2", "repeat-real", "accumulate", "accumulate-subsample", "S2-a0.5"}
    keys = {r["signal"] for r in series}
    assert keys == {k for k, *_ in ctl.SIGNALS}
    gen = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    for r in series:
        assert r["value"] == gen[(r["setting"], r["generation"])][r["signal"]]  # read from the engine's table
        if r["generation"] > 0 or not r["signal"].startswith("drift_"):
            assert r["sd"] > 0, r  # every checkpoint's value has a noise estimate (the drift is 0 +- 0 at g = 0)
    g0 = [r for r in series if r["generation"] == 0]
    assert all(r["change"] == 0 for r in g0)


def test_verdict_compares_only_collapse_with_controls(controls_run):
    from sigma_lib.report import controls as ctl

    run_dir, _ = controls_run
    series = ctl.signal_series(run_dir, n_draws=5)
    rows = ctl.verdict_table(series)
    assert [r["signal"] for r in rows] == [label for _, label, _, _ in ctl.SIGNALS]
    pairs = {k for k in rows[0] if " vs " in k}
    assert pairs == {"S2 vs repeat-real", "S2 vs accumulate", "S2 vs accumulate-subsample", "S2 vs S2-a0.5"}
    assert all(r["verdict"] in ("separates", "partly", "does not separate") for r in rows)
    assert ctl.summary_sentence(rows).endswith(".")
    with pytest.raises(ValueError, match="collapse setting"):
        ctl.verdict_table([r for r in series if r["setting"] != "S2"])


def test_separation_needs_every_later_generation_beyond_the_band():
    from sigma_lib.report import controls as ctl

    def rows(setting, values, sd):
        return [{"source": "", "setting": setting, "generation": g, "signal": "drift_U", "value": v, "change": v,
                 "sd": sd}
                for g, v in enumerate(values)]
    # S2 falls 10 per generation; the control 1 per generation; sd 1 each -> band 2*sqrt(2) = 2.83
    series = rows("S2", [0, -2, -20, -30], 1.0) + rows("repeat-real", [0, -1, -2, -3], 1.0)
    sep = ctl.separation(series, "S2", "repeat-real", "drift_U")
    assert sep["separated_from"] == 2 and sep["final_difference"] == -27
    assert abs(sep["final_band"] - 2 * 2 ** 0.5) < 1e-12
    # back inside the band at the last generation: no separation
    series = rows("S2", [0, -20, -20, -3], 1.0) + rows("repeat-real", [0, -1, -2, -3], 1.0)
    assert ctl.separation(series, "S2", "repeat-real", "drift_U")["separated_from"] is None
    # the first exit of the collapse setting alone
    exits = ctl.first_exits(rows("S2", [0, -2, -20, -30], 1.0))
    assert exits[0]["S2"] == 2


def test_runs_are_compared_only_with_the_same_protocol():
    from sigma_lib.report.controls import comparable

    a = {"settings": ["S1", "S2"], "lr": 1e-4, "seed": 0, "threads": 2}
    assert comparable(a, {**a, "settings": ["repeat-real"], "threads": 1, "workers": 3}) == []
    assert comparable(a, {**a, "lr": 5e-5}) == ["lr"]


def test_the_book_says_plainly_how_much_the_controls_move_a_signal():
    from sigma_lib.report import controls as ctl

    def rows(setting, values):
        return [{"source": "", "setting": setting, "generation": g, "signal": "drift_U", "value": v, "change": v,
                 "sd": 1.0}
                for g, v in enumerate(values)]
    series = rows("S2", [0, -10, -40]) + rows("repeat-real", [0, -5, -36]) + rows("accumulate", [0, -1, -4])
    shares = ctl.control_shares(series, "drift_U")
    assert shares == {"repeat-real": 0.9, "accumulate": 0.1}
    assert "(repeat-real) moves it 0.90 times as much as S2 does" in ctl.share_in_words(shares)
    assert "moves it 0.38 times as much as" in ctl.share_in_words({"accumulate": 0.38})  # not "about half"
    assert "every control moves it the other way" in ctl.share_in_words({"new-real": -0.43})
    assert "new-real −0.43" in ctl.share_in_words({"new-real": -0.43})


def test_the_collapse_summary_names_track_ii_verdict_the_count_and_the_largest_share():
    from sigma_lib.report import controls as ctl

    verdicts = [{"signal": ctl.SIGNAL_LABELS["drift_U"], "verdict": "does not separate"},
                {"signal": ctl.SIGNAL_LABELS["distinct_2"], "verdict": "separates"},
                {"signal": ctl.SIGNAL_LABELS["rankme"], "verdict": "partly"}]
    text = ctl.collapse_summary(verdicts, {"repeat-real": 1.034, "accumulate": -0.09})
    assert text == ("Track II does not separate S1 and S2 from all 2 controls "
                    "(1 of 3 signals do); the control that moves it most (repeat-real) moves it 1.03 times as much "
                    "as S2.")
    assert "(accumulate) moves it 0.50 times" in ctl.collapse_summary(verdicts, {"accumulate": 0.5})
