"""Units of the recursion engine: configuration, seeds, sampler, mixture, checkpoints."""
import pytest
import torch

from sigma_lib.recursion.checkpoint import GenerationWriter, read_done
from sigma_lib.recursion.config import run_config
from sigma_lib.recursion.data import encode_blocks, mixture_indices
from sigma_lib.recursion.sampling import SampleStats, nucleus_sample, sample, truncate_at_eos
from sigma_lib.recursion.seeds import derive_seed


@pytest.fixture(scope="module")
def tiny_gpt():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=128, vocab_size=97,
                                       resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0))
    return model.eval()


def test_profiles_and_overrides():
    cfg = run_config("smoke", seed=3, settings="both")
    assert cfg.seed == 3 and cfg.settings == ("S1", "S2") and cfg.profile == "smoke"
    assert run_config("default", settings="S2").settings == ("S2",)
    assert run_config("paper").base_model == "smollm2-135m" and run_config("paper").precision == "bf16"
    assert run_config("real-cpu").settings == ("S1", "S2", "repeat-real")
    assert run_config("smoke", settings="S1,repeat-real").settings == ("S1", "repeat-real")
    assert run_config("smoke", settings="all").settings == ("S1", "S2", "repeat-real", "new-real")
    sweep = run_config("smoke", settings="S2-a0.25,S2-a1,accumulate,accumulate-subsample")
    assert [sweep.setting_alpha(s) for s in sweep.settings] == [0.25, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(settings="S3"), "settings must be distinct names among"),
    (dict(settings="S2-a1.5"), "settings must be distinct names among"),
    (dict(settings="S1,S1"), "settings must be distinct"),
    (dict(precision="fp8"), "precision"),
    (dict(alpha=1.5), "alpha"),
    (dict(generations=0), "generations must be an integer >= 1"),
    (dict(generations=2.5), "generations must be an integer"),
    (dict(top_p=0.0), "top_p"),
    (dict(temperature=-1.0), "temperature"),
    (dict(device="tpu"), "device"),
    (dict(n_prompts=0), "n_prompts"),
    (dict(keep_checkpoints="some"), "keep_checkpoints"),
    (dict(learning_rate=1e-3), "unknown parameter 'learning_rate'"),
])
def test_bad_parameters_fail_before_any_work(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_config("smoke", **kwargs)
    with pytest.raises(ValueError, match="unknown profile"):
        run_config("huge")


def test_seeds_are_stable_and_distinct():
    assert derive_seed(0, 1, "pool", "ctx-1") == derive_seed(0, 1, "pool", "ctx-1")
    assert len({derive_seed(0, g, "pool", c) for g in range(3) for c in "abc"}) == 9
    assert 0 <= derive_seed("x") < 2**63


def test_nucleus_sampling():
    logits = torch.tensor([[5.0, 1.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
    u = torch.tensor([0.999, 0.6], dtype=torch.float64)
    # top_p tiny: only the most likely token survives (row 0)
    assert nucleus_sample(logits, u, top_p=1e-6, temperature=1.0)[0] == 0
    assert 0 <= nucleus_sample(logits, u, top_p=1.0, temperature=1.0)[1] < 4  # ties: any order
    # probabilities ~ (0.53, 0.19, 0.12, 0.07, ...): top_p = 0.6 keeps tokens 0 and 1 only
    row = torch.tensor([[2.0, 1.0, 0.5, 0.0]]).repeat(3, 1)
    picks = nucleus_sample(row, torch.tensor([0.1, 0.9, 0.999], dtype=torch.float64), 0.6, 1.0)
    assert picks.tolist() == [0, 1, 1]
    # a high temperature flattens: the same u then lands on a later token
    assert nucleus_sample(row[:1], torch.tensor([0.7], dtype=torch.float64), 1.0, 100.0).item() == 2
    draws = nucleus_sample(logits[:1].repeat(2000, 1), torch.rand(2000, dtype=torch.float64), 0.95, 1.0)
    assert set(draws.tolist()) <= {0, 1}  # the nucleus of row 0 at 0.95 is tokens 0 and 1


def test_sampling_does_not_depend_on_batching_or_the_cache(tiny_gpt):
    prompts = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], [11], [12, 13, 14], [15, 16]]
    seeds = [derive_seed(0, i) for i in range(len(prompts))]
    a = sample(tiny_gpt, prompts, seeds, 12, batch_size=6)
    b = sample(tiny_gpt, prompts, seeds, 12, batch_size=1)
    c = sample(tiny_gpt, prompts[::-1], seeds[::-1], 12, batch_size=4)[::-1]
    d = sample(tiny_gpt, prompts, seeds, 12, batch_size=3, use_cache=False)
    assert a == b == c == d
    assert all(len(x) == 12 for x in a)
    assert sample(tiny_gpt, prompts, [s + 1 for s in seeds], 12) != a
    with pytest.raises(ValueError, match="seeds"):
        sample(tiny_gpt, prompts, seeds[:-1], 4)
    with pytest.raises(ValueError, match="at least one token"):
        sample(tiny_gpt, [[]], [0], 4)
    assert truncate_at_eos([5, 6, 0, 7], 0) == [5, 6] and truncate_at_eos([5], None) == [5]


def test_sample_stats_split_the_seconds(tiny_gpt):
    stats = SampleStats()
    sample(tiny_gpt, [[1, 2, 3], [4, 5]], [1, 2], 6, batch_size=1, stats=stats)
    assert stats.new_tokens == 12
    assert 0 < stats.prompt_seconds and 0 < stats.nucleus_seconds
    assert stats.prompt_seconds + stats.nucleus_seconds < stats.seconds


def test_mixture_constant_budget():
    for alpha, k_real in ((0.0, 0), (0.25, 25), (1.0, 100)):
        real, syn = mixture_indices(100, 100, 100, alpha, 0, 1)
        assert len(real) == k_real and len(syn) == 100 - k_real
        assert len(set(real)) == len(real) and len(set(syn)) == len(syn)
    assert mixture_indices(100, 100, 100, 0.5, 0, 1) == mixture_indices(100, 100, 100, 0.5, 0, 1)
    assert mixture_indices(100, 100, 100, 0.5, 0, 1) != mixture_indices(100, 100, 100, 0.5, 0, 2)
    with pytest.raises(ValueError, match="needs"):
        mixture_indices(100, 100, 10, 0.0, 0, 1)


def test_encode_blocks_pads_and_masks():
    from sigma_lib.recursion.base_model import project_tokenizer

    tok = project_tokenizer()
    ids, mask = encode_blocks(tok, ["a short text", "x " * 100], 16)
    assert ids.shape == mask.shape == (2, 16)
    assert mask[1].all() and 0 < int(mask[0].sum()) < 16
    with pytest.raises(ValueError):
        encode_blocks(tok, [], 8)


def test_checkpoint_writer_and_corruption(tmp_path):
    import numpy as np

    folder = tmp_path / "S1" / "gen_001"
    w = GenerationWriter(folder)
    w.jsonl("responses.jsonl", [{"text": "hello"}])
    w.array("embeddings.npy", np.ones((3, 2), dtype=np.float32))
    w.commit({"U": 1.0})
    assert read_done(folder)["metrics"] == {"U": 1.0}
    assert not list(tmp_path.glob("S1/*.partial-*"))
    data = bytearray((folder / "embeddings.npy").read_bytes())
    data[-1] ^= 1
    (folder / "embeddings.npy").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt checkpoint: .*embeddings.npy"):
        read_done(folder)
    (folder / "done.json").write_text("{")
    with pytest.raises(ValueError, match="corrupt checkpoint"):
        read_done(folder)


def test_nucleus_fast_path_equals_full_sort():
    torch.manual_seed(1)
    # Peaked rows (nucleus inside the top 1024), middling rows (inside the top 2048) and flat rows
    # (nucleus larger: the full sort), in one batch.
    logits = torch.cat([torch.randn(50, 4096) * 6, torch.randn(50, 4096) * 0.01, torch.randn(50, 4096) * 1.3])
    u = torch.rand(150, dtype=torch.float64)
    fast = nucleus_sample(logits, u, 0.95, 1.0, candidates=(1024, 2048))
    full = nucleus_sample(logits, u, 0.95, 1.0, candidates=())
    assert torch.equal(fast, full)
    for temperature in (0.7, 1.5):
        assert torch.equal(nucleus_sample(logits, u, 0.9, temperature),
                           nucleus_sample(logits, u, 0.9, temperature, candidates=()))


def test_banned_tokens_are_never_sampled(tiny_gpt):
    prompts = [[1, 2, 3], [4, 5], [6]]
    free = sample(tiny_gpt, prompts, [1, 2, 3], 40, top_p=1.0, batch_size=3)
    common = max(set(t for row in free for t in row), key=lambda t: sum(row.count(t) for row in free))
    banned = sample(tiny_gpt, prompts, [1, 2, 3], 40, top_p=1.0, batch_size=3, banned_ids=[common, 0])
    assert all(common not in row and 0 not in row for row in banned)
    assert banned != free


def test_theta0_can_be_trained_on_more_contexts_than_the_recursion_uses(tmp_path):
    """``base_contexts`` (the default profile: theta_0 on all 1,200 contexts, the recursion on 600)
    changes theta_0 and only theta_0: the recursion's contexts stay ``n_contexts``."""
    from sigma_lib.recursion.engine import Experiment

    small = Experiment(run_config("smoke", settings="S1"), tmp_path / "a", tmp_path / "cache", progress=False)
    more = Experiment(run_config("smoke", settings="S1", base_contexts=64), tmp_path / "b", tmp_path / "cache",
                      progress=False)
    assert not (tmp_path / "cache").exists()  # the constructor is cheap: theta_0 waits for prepare()
    small.prepare(), more.prepare()
    assert len(small.contexts) == len(more.contexts) == 32
    assert small.base_info["key"] != more.base_info["key"]
    with pytest.raises(ValueError, match="base_contexts"):
        run_config("smoke", base_contexts=0)


def test_the_manifest_names_the_cpu_kind_whose_last_bits_a_run_carries():
    from pathlib import Path

    from sigma_lib.recursion.engine import cpu_model, hardware

    info = hardware("cpu")
    if not Path("/proc/cpuinfo").is_file():
        assert cpu_model() == {}
        return
    assert info["cpu_model"] and set(info["cpu_flags"]) <= {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
