"""The recursion engine end to end on the smoke profile: tables, S1/S2, resume, corruption, OPT path."""
import shutil

import pytest
import torch

from sigma_lib.recursion import checkpoint
from sigma_lib.recursion.base_model import load_pretrained, project_tokenizer
from sigma_lib.recursion.config import run_config
from sigma_lib.recursion.engine import RunInterrupted, run_experiment

TABLES = ("generations.csv", "buckets.csv", "noise.csv")
S1S2 = dict(settings="S1,S2")  # the smoke profile also runs the controls; these tests are about S1 and S2


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("theta0-cache")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, cache):
    run_dir = tmp_path_factory.mktemp("smoke") / "run"
    tables = run_experiment(run_config("smoke", **S1S2), run_dir, cache, progress=False, log=lambda s: None)
    return run_dir, tables


def test_smoke_profile_end_to_end(smoke_run):
    run_dir, tables = smoke_run
    gens = tables["generations"]
    assert [(r["setting"], r["generation"]) for r in gens] == [(s, g) for s in ("S1", "S2") for g in range(3)]
    for r in gens:
        assert r["N"] == 540 and r["m"] == 400 and r["d"] == 384
        assert all(torch.isfinite(torch.tensor(float(r[k])))
                   for k in ("U", "gamma_kf", "distinct_2", "hhi", "heldout_nll"))
    assert gens[0]["drift_U"] == 0.0 and gens[1]["noise_U"] > 0
    assert len(tables["buckets"]) == 6 * 5 and len(tables["noise"]) == 1
    for name in TABLES + ("timings.csv",):
        assert (run_dir / "tables" / name).is_file()
    assert (run_dir / "manifest.json").is_file()
    assert len(checkpoint.load_texts(run_dir / "S1" / "gen_001", "pool.jsonl")) == 32


def test_tables_hold_the_spectral_peers_and_the_bucket_noise(smoke_run):
    """Vendi, RankMe and the per-bucket evaluation noise are measured by the engine and stored in the
    tables, so no chapter recomputes them from the generation folders (issue 11)."""
    import numpy as np

    from sigma_lib.maths.signals import rankme, vendi_score
    from sigma_lib.recursion.measures import bucket_metrics
    from sigma_lib.report.run_report import bucket_table

    run_dir, tables = smoke_run
    g1 = next(r for r in tables["generations"] if (r["setting"], r["generation"]) == ("S2", 1))
    emb = checkpoint.load_embeddings(run_dir / "S2" / "gen_001")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # as the engine measures: the same bits
        assert g1["vendi"] == vendi_score(emb) and g1["rankme"] == rankme(emb)
    base = run_dir / "base" / "gen_000"
    emb0, emb_r = checkpoint.load_embeddings(base), np.load(base / "embeddings_reseed.npy")
    buckets = [r["bucket"] for r in checkpoint.load_texts(base)]
    with threadpool_limits(limits=1, user_api="blas"):
        draws = {b["bucket"]: b["drift_U"] for b in bucket_metrics(emb_r, emb0, buckets, 1e-3)}
    rows = bucket_table(run_dir)
    assert {r["bucket"]: r["reseed_drift_U"] for r in rows} == draws  # one draw of evaluation noise per bucket
    pooled = np.sqrt(np.mean([d**2 for d in draws.values()]))  # their root mean square: an sd with 5 dof
    assert all(r["reseed_noise_U"] == pytest.approx(pooled) and r["reseed_noise_dof"] == 5 for r in rows)
    assert len(tables["noise_buckets"]) == 5


def test_s1_restarts_from_theta0_and_s2_carries_weights(smoke_run):
    _, tables = smoke_run
    rows = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    theta0 = rows[("S1", 0)]["end_params"]
    for g in (1, 2):
        assert rows[("S1", g)]["start_params"] == theta0
        assert rows[("S2", g)]["start_params"] == rows[("S2", g - 1)]["end_params"]
        assert rows[("S1", g)]["end_params"] != theta0
    assert rows[("S2", 1)]["end_params"] == rows[("S1", 1)]["end_params"]  # S1 and S2 coincide at g = 1
    assert rows[("S2", 2)]["end_params"] != rows[("S1", 2)]["end_params"]


def test_resume_after_interruption_gives_identical_tables(smoke_run, tmp_path, cache, monkeypatch):
    ref_dir, _ = smoke_run
    run_dir = tmp_path / "run"
    cfg = run_config("smoke", **S1S2)
    with pytest.raises(RunInterrupted):
        run_experiment(cfg, run_dir, cache, progress=False, stop_after=("S1", 1), log=lambda s: None)
    # Second interruption: killed while writing S1 g2 (its folder is left half-written).
    real_commit = checkpoint.GenerationWriter.commit

    def killed(self, metrics):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(checkpoint.GenerationWriter, "commit", killed)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, run_dir, cache, progress=False, log=lambda s: None)
    assert list((run_dir / "S1").glob("gen_002.partial-*")) and not (run_dir / "S1" / "gen_002").exists()
    monkeypatch.setattr(checkpoint.GenerationWriter, "commit", real_commit)
    run_experiment(cfg, run_dir, cache, progress=False, log=lambda s: None)
    for name in TABLES:
        assert (run_dir / "tables" / name).read_bytes() == (ref_dir / "tables" / name).read_bytes(), name
    assert not list(run_dir.glob("*/*.partial-*"))


def test_corrupt_checkpoint_is_named(smoke_run, tmp_path, cache):
    ref_dir, _ = smoke_run
    run_dir = tmp_path / "run"
    shutil.copytree(ref_dir, run_dir)
    weights = run_dir / "S2" / "gen_002" / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"corrupt checkpoint: .*S2/gen_002/model/model.safetensors"):
        run_experiment(run_config("smoke", **S1S2), run_dir, cache, progress=False, log=lambda s: None)


def test_other_parameters_in_the_same_directory_are_refused(smoke_run, tmp_path, cache):
    ref_dir, _ = smoke_run
    run_dir = tmp_path / "run"
    shutil.copytree(ref_dir, run_dir)
    with pytest.raises(ValueError, match="other config"):
        run_experiment(run_config("smoke", seed=1, **S1S2), run_dir, cache, progress=False, log=lambda s: None)


def test_a_run_resumed_on_other_hardware_records_the_machine_it_resumed_on(smoke_run, tmp_path, cache):
    """The last bits of a run depend on the CPU kind, so an export must name the machine of the
    latest start, not the one that began the run."""
    import json

    from sigma_lib.recursion.engine import hardware

    ref_dir, _ = smoke_run
    run_dir = tmp_path / "run"
    shutil.copytree(ref_dir, run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["hardware"] = {**manifest["hardware"], "cpu_model": "another CPU"}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    run_experiment(run_config("smoke", **S1S2), run_dir, cache, progress=False, log=lambda s: None)
    recorded = json.loads((run_dir / "manifest.json").read_text())["hardware"]
    assert recorded.get("cpu_model") == hardware("cpu").get("cpu_model") != "another CPU"
    for name in TABLES:
        assert (run_dir / "tables" / name).read_bytes() == (ref_dir / "tables" / name).read_bytes(), name


def test_m_larger_than_n_is_refused(tmp_path, cache):
    with pytest.raises(ValueError, match="exceeds the number of responses"):
        run_experiment(run_config("smoke", m=600, **S1S2), tmp_path / "run", cache, progress=False, log=lambda s: None)


@pytest.fixture(scope="module")
def tiny_opt(tmp_path_factory):
    from transformers import OPTConfig, OPTForCausalLM

    tok = project_tokenizer()
    conf = OPTConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, ffn_dim=64, num_attention_heads=2,
                     max_position_embeddings=256, word_embed_proj_dim=32, pad_token_id=tok.pad_token_id,
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, dropout=0.0)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-opt")
    OPTForCausalLM(conf).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_hugging_face_path_with_a_local_tiny_opt(tiny_opt, tmp_path, cache):
    cfg = run_config("smoke", base_model=str(tiny_opt), generations=1, settings="S1", reseed_baseline=False)
    tables = run_experiment(cfg, tmp_path / "run", cache, progress=False, log=lambda s: None)
    rows = tables["generations"]
    assert [r["generation"] for r in rows] == [0, 1]
    assert rows[1]["start_params"] == rows[0]["end_params"] != rows[1]["end_params"]
    model, tok = load_pretrained(str(tiny_opt))
    assert model.config.model_type == "opt"


def test_a_model_that_is_not_local_gives_instructions(tmp_path):
    with pytest.raises(FileNotFoundError, match="not available locally.*huggingface-cli download"):
        load_pretrained(str(tmp_path / "no-such-model"))


def test_tables_do_not_depend_on_the_blas_threads(tmp_path, cache):
    """The baseline is measured with one BLAS thread, like every checkpoint: with more BLAS threads in
    the process, theta_0's drift against itself is still exactly 0 (it was 4.5e-13 on 2 threads)."""
    from threadpoolctl import threadpool_limits

    cfg = run_config("smoke", settings="S1", generations=1, reseed_baseline=False)
    with threadpool_limits(limits=2, user_api="blas"):
        tables = run_experiment(cfg, tmp_path / "run", cache, progress=False, log=lambda s: None)
    g0 = tables["generations"][0]
    assert g0["generation"] == 0 and g0["drift_U"] == 0.0 and g0["noise_U"] == 0.0


def test_s1_joining_after_s2_dropped_generation_1_re_trains_its_weights_bit_for_bit(tmp_path, cache):
    # The replicated study grows one setting at a time (S2, then S1) and keeps only the last weights:
    # S1's pool at generation 2 is sampled from the shared generation 1, whose weights S2 dropped.
    grown, said = tmp_path / "grown", []
    run_experiment(run_config("smoke", settings="S2", keep_checkpoints="last"), grown, cache, progress=False,
                   log=lambda s: None)
    assert not (grown / "S2" / "gen_001" / "model").exists()
    run_experiment(run_config("smoke", settings="S2,S1", keep_checkpoints="last"), grown, cache, progress=False,
                   log=said.append)
    # restore_model puts the weights back only when their hash is the recorded end_params: bit for bit
    assert "S1 g1: weights dropped earlier, re-training them as S2 g1" in said
    assert not any("re-training them as S1" in s for s in said)  # the partner's name, which trained it, came first
    assert checkpoint.is_done(grown / "S1" / "gen_002")
    checkpoint.read_done(grown / "S1" / "gen_001")  # listed again, then dropped again after g2: still verifies


def test_settings_in_worker_processes_give_the_same_tables(tmp_path, cache):
    """``workers=2``: S1 and S2 in one process (they share generation 1), repeat-real in another; the
    same bits as one process, a run may resume with another worker count, and a worker's error reaches
    the caller."""
    three = dict(settings="S1,S2,repeat-real", generations=1, reseed_baseline=False)
    run_experiment(run_config("smoke", **three), tmp_path / "one", cache, progress=False, log=lambda s: None)
    said = []
    run_experiment(run_config("smoke", workers=2, **three), tmp_path / "two", cache, progress=False, log=said.append)
    for name in ("generations.csv", "buckets.csv"):
        assert (tmp_path / "two" / "tables" / name).read_bytes() == (tmp_path / "one" / "tables" / name).read_bytes()
    assert "running S1, S2 | repeat-real in 2 worker processes" in said
    assert "S2 g1: done earlier, verified" in said  # S1 computed it and shared it, in the same worker
    again = []
    run_experiment(run_config("smoke", **three), tmp_path / "two", cache, progress=False, log=again.append)
    assert again and all("done earlier, verified" in line for line in again)
    checkpoint.generation_dir(tmp_path / "two", "repeat-real", 1).joinpath("embeddings.npy").write_bytes(b"corrupt")
    with pytest.raises(ValueError, match="repeat-real.gen_001"):
        run_experiment(run_config("smoke", workers=2, **three), tmp_path / "two", cache, progress=False,
                       log=lambda s: None)


def test_setting_groups_keep_s1_and_s2_together():
    from sigma_lib.recursion.parallel import setting_groups

    groups = setting_groups(("repeat-real", "S2", "accumulate", "S1"))
    assert groups == [("S2", "S1"), ("repeat-real",), ("accumulate",)]
    assert setting_groups(("S1", "new-real")) == [("S1",), ("new-real",)]
