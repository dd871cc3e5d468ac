"""Settings beyond S1/S2 (issue 14): accumulate, accumulate-subsample and the alpha sweep, with
the same protocol, seeds, manifest and resume as S1/S2."""
import pytest

from sigma_lib.recursion.checkpoint import generation_dir, read_done
from sigma_lib.recursion.config import run_config
from sigma_lib.recursion.engine import RunInterrupted, run_experiment

QUIET = dict(progress=False, log=lambda s: None)
SETTINGS = "accumulate,accumulate-subsample,S2-a0.5"


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
