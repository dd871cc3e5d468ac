"""Several processes: the probe split over 2 gloo ranks gives the single-process numbers."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

CHILD = """
import json, os, sys
sys.path.insert(0, {tests!r})
import torch
import torch.distributed as dist
from sigma_fakes import PROMPTS, probe, toy_lm

distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
if distributed:
    dist.init_process_group("gloo", init_method="env://")
model, tok = toy_lm()
pr = probe(tok, PROMPTS, max_new_tokens=6)
records = [pr.measure(model, checkpoint=0).as_dict()]
with torch.no_grad():  # a deterministic "training step": the same weights on every rank
    g = torch.Generator().manual_seed(1)
    for p in model.parameters():
        p.add_(0.5 * torch.randn(p.shape, generator=g))
records.append(pr.measure(model, checkpoint=1).as_dict())
rank = dist.get_rank() if distributed else 0
with open(os.path.join({out!r}, f"rank{{rank}}.json"), "w") as f:
    json.dump(records, f)
if distributed:
    dist.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(script: Path, world: int) -> list:
    port = str(_free_port())
    procs = []
    for rank in range(world):
        env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=port, RANK=str(rank),
                   LOCAL_RANK=str(rank), WORLD_SIZE=str(world), GLOO_SOCKET_IFNAME="lo")
        procs.append(subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    return procs


def _wait(procs) -> None:
    for p in procs:
        stdout, _ = p.communicate(timeout=180)
        assert p.returncode == 0, stdout[-3000:]


def test_two_gloo_ranks_give_the_single_process_result(tmp_path):
    single, double = tmp_path / "single", tmp_path / "double"
    single.mkdir()
    double.mkdir()
    for out in (single, double):
        (out / "child.py").write_text(CHILD.format(tests=str(TESTS), out=str(out)))
    _wait(_start(single / "child.py", 1) + _start(double / "child.py", 2))  # all three at once
    ref = json.loads((single / "rank0.json").read_text())
    for rank in (0, 1):  # every rank holds the same record (the Grams are all-reduced)
        got = json.loads((double / f"rank{rank}.json").read_text())
        for r_ref, r_got in zip(ref, got, strict=True):
            for key in ("U", "gamma_kf", "drift_U", "drift_gamma_kf", "noise_U", "sd_U"):
                assert r_got[key] == pytest.approx(r_ref[key], rel=1e-12, abs=1e-12), key
            assert (r_got["N"], r_got["m"], r_got["d"]) == (r_ref["N"], r_ref["m"], r_ref["d"])
    assert ref[1]["drift_U"] != 0.0


def test_probe_blocks_and_index_sets_do_not_depend_on_the_world_size():
    from sigma_fakes import PROMPTS, probe, toy_lm

    _, tok = toy_lm()
    a, b = probe(tok, PROMPTS), probe(tok, PROMPTS)
    assert a.blocks() == b.blocks() == [(0, 8), (8, 16), (16, 24), (24, 32), (32, 36)]
    for s, t in zip(a.index_sets, b.index_sets, strict=True):
        assert (s == t).all()


def test_single_process_probe_matches_the_monitor_on_the_same_embeddings():
    """The block-wise partial Grams equal SigmaMonitor.update on all embeddings at once."""
    import numpy as np
    from sigma_fakes import PROMPTS, HashEncoder, probe, toy_lm

    from sigma_lib.maths.monitor import SigmaMonitor
    from sigma_lib.recursion.sampling import sample, truncate_at_eos
    from sigma_lib.recursion.seeds import derive_seed

    model, tok = toy_lm()
    pr = probe(tok, PROMPTS, max_new_tokens=6)
    rec = pr.measure(model, checkpoint=0)
    ids = [tok(p)["input_ids"] for p in pr.prompts]
    slots = [(i, j) for i in range(len(ids)) for j in range(pr.k)]
    texts = []
    for lo, hi in pr.blocks():
        toks = sample(model, [ids[i] for i, _ in slots[lo:hi]],
                      [derive_seed(0, "probe", i, j) for i, j in slots[lo:hi]], pr.max_new_tokens, top_p=pr.top_p,
                      temperature=pr.temperature, batch_size=hi - lo, pad_id=0, device="cpu")
        texts += [tok.decode(truncate_at_eos(t, tok.eos_token_id), skip_special_tokens=True) for t in toks]
    mon = SigmaMonitor(len(slots), 20, seed=0, n_draws=5)
    ref = mon.update(HashEncoder().encode(texts), 0)
    assert rec.U == pytest.approx(ref.U, rel=1e-12) and rec.gamma_kf == pytest.approx(ref.gamma_kf, rel=1e-12)
    assert rec.sd_U == pytest.approx(ref.sd_U, rel=1e-9)
    assert np.isfinite(rec.U)
