"""The recursion loop (Sec. 4, App. C.3): S1 restarts from theta_0, S2 carries weights forward.

For each generation ``g >= 1`` of a setting (see :data:`.config.SETTING_SPECS`):

1. **pool**: the generation ``g-1`` model continues every real context by
   ``continuation_tokens`` sampled tokens (one continuation per context, per-context seed);
   skipped when the setting trains on real data only (alpha = 1: ``repeat-real``, ``new-real``);
2. **mix**: ``round(alpha n)`` real and ``n - round(alpha n)`` synthetic blocks (constant budget);
   ``new-real`` trains on block ``g - 1`` of the frozen unused TECH windows instead; the ids of the
   real contexts trained on are recorded (``real_context_ids``) and checked when a run resumes;
3. **train**: from theta_0 (S1, (4.1)) or from theta_{g-1} (S2, (4.2), and the controls), in
   float32 or mixed precision; record how far the weights moved from theta_0;
4. **evaluate**: ``k`` responses to every prompt of the frozen bank (per-prompt seeds);
5. **embed** with the frozen encoder and **measure**: Track I and II with drift and noise,
   distinct-2, hashed HHI, per-bucket Track II, held-out real-text NLL.

Every generation is a verified folder (:mod:`.checkpoint`); a killed run resumes from the last
finished generation and ends with the same tables. The tables in ``run_dir/tables`` are rebuilt
from the generation folders, the single source of truth.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from .._version import __version__ as sigma_version
from ..common.io import (
    atomic_replace_dir,
    atomic_write_text,
    remove_partials,
    write_csv,
)
from ..corpus.assets import TECH_DIR, load_contexts, verify_assets
from ..corpus.prompts import load_prompt_bank
from .base_model import build_base_model, load_pretrained
from .checkpoint import (
    GenerationWriter,
    add_model,
    generation_dir,
    is_done,
    load_embeddings,
    read_done,
    remove_model,
)
from .config import SHARED_FIRST_GENERATION, RunConfig, setting_spec, with_defaults
from .data import encode_blocks, mixture_indices, spread_subset
from .embedding import embed_texts, load_encoder
from .measures import baseline_monitor, bucket_metrics, spectral_metrics, surface_metrics, track_metrics
from .parallel import run_settings_in_workers, setting_groups
from .precision import inference_copy, relative_distance, squared_norm
from .sampling import sample, truncate_at_eos
from .seeds import derive_seed, generator
from .trackers import GenerationTracker
from .training import nll_with_error, params_hash, train_causal_lm

TABLES = ("generations", "buckets", "noise")


class RunInterrupted(RuntimeError):
    """Raised by the ``stop_after`` hook (tests): the run stops as if killed after a generation."""


def _versions() -> dict:
    import sentence_transformers
    import transformers

    return {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__, "sentence_transformers": sentence_transformers.__version__,
            "sigma_lib": sigma_version}


def cpu_model() -> dict:
    """The CPU's model name and its matmul-relevant flags from ``/proc/cpuinfo`` (empty elsewhere):
    float32 kernels differ between CPU kinds in their last bits, and sampling turns a last bit at a
    near-tie into another token, so a run is bit for bit only on the CPU kind that made it."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return {"cpu_model": fields.get("model name", ""),
            "cpu_flags": [f for f in wanted if f in fields.get("flags", "").split()]}


def hardware(device: str) -> dict:
    """What the run ran on (recorded in the manifest; not part of the resume check)."""
    info = {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            # AVX512 without AMX makes bf16 matmuls slower than fp32 (benchmarks/bench_recursion.py)
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), **cpu_model()}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


#: Config keys a run may change when it resumes: what it has computed does not depend on them
#: (a run can grow by generations or settings; which checkpoints are kept and how many processes
#: run the settings are bookkeeping).
GROWABLE = ("generations", "settings", "keep_checkpoints", "workers")


def _identity(section: str, values: dict) -> dict:
    """What of a manifest section must match for a run to resume: for ``config``, every key but
    :data:`GROWABLE`, a key absent from an older manifest counting as its default."""
    if section != "config":
        return values
    return {k: v for k, v in with_defaults(values).items() if k not in GROWABLE}


def _check_manifest(run_dir: Path, manifest: dict, keys=("config", "assets", "versions", "base_model")) -> None:
    """Refuse a run directory made with other ``keys`` (see :func:`_identity`); write the manifest
    if there is none yet, if the run grew, or if it resumes on other hardware (which the manifest
    then records: the machine of the latest start), only when every key is given."""
    path = run_dir / "manifest.json"
    old = None
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"corrupt {path}: {exc}; delete {run_dir} to start again") from None
        diffs = {k: sorted(key for key in set(_identity(k, old.get(k, {}))) | set(_identity(k, manifest[k]))
                           if _identity(k, old.get(k, {})).get(key) != _identity(k, manifest[k]).get(key))
                 for k in keys}
        diffs = {k: v for k, v in diffs.items() if v}
        if diffs:
            raise ValueError(f"{run_dir} holds a run made with other {', '.join(diffs)} (differing: {diffs}); "
                             "use another output directory, or delete this one to start again")
    if "base_model" in keys and (old is None or any(old.get(k) != manifest.get(k) for k in ("config", "hardware"))):
        atomic_write_text(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _cat_blocks(parts: list[tuple[torch.Tensor, torch.Tensor]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(p[0].shape[1] for p in parts)
    ids, mask = [], []
    for i, m in parts:
        extra = width - i.shape[1]
        ids.append(torch.nn.functional.pad(i, (0, extra), value=pad_id))
        mask.append(torch.nn.functional.pad(m, (0, extra), value=0))
    return torch.cat(ids), torch.cat(mask)


class StageTimer:
    """Wall-clock seconds per stage of one generation (its metrics' ``timings``):
    ``with timed("train"): ...`` adds the block's seconds to ``timed.seconds["train"]``."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t


@dataclass
class Baseline:
    """Generation 0 as every later generation is compared with it: its folder, its embeddings
    ``(N, d)`` and its tracks on the run's fixed observed index sets (:func:`.measures.baseline_monitor`)."""

    folder: Path
    emb: np.ndarray
    monitor: object


@dataclass
class TrainingBlocks:
    """What one generation trains on: token blocks and masks ``(n, T)``, the ids of the real
    contexts among them, the count of synthetic blocks, and the pool sampled for them (token
    blocks, masks and raw continuations; ``None`` when the setting trains on real data only)."""

    ids: torch.Tensor
    mask: torch.Tensor
    real_ids: list
    n_synthetic: int
    pool: tuple | None


class Experiment:
    """One run: its configuration, frozen inputs, models and generation folders.

    The constructor is cheap: it reads the frozen inputs and refuses a run folder made with other
    parameters. :meth:`prepare` builds (or loads from the cache) theta_0 and encodes the inputs;
    :meth:`run` prepares when that has not been done, then runs every setting.
    """

    def __init__(self, cfg: RunConfig, run_dir: str | Path, cache_dir: str | Path | None = None, *,
                 progress: bool = True, log=print, report_to: str = "none", clean: bool = True):
        self.cfg, self.run_dir, self.progress, self.log = cfg, Path(run_dir), progress, log
        self.report_to = report_to
        self.cache_dir = Path(cache_dir) if cache_dir else self.run_dir.parent / "cache"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Interrupted writes of a killed run; not in a worker process (clean=False), whose siblings write.
        for setting_dir in self.run_dir.iterdir() if clean else ():
            if setting_dir.is_dir():
                remove_partials(setting_dir)
        torch.set_num_threads(cfg.threads)
        self.manifest = self.read_inputs()
        _check_manifest(self.run_dir, self.manifest, ("config", "assets", "versions"))  # before any theta_0 work
        self.prepared = False
        self._encoder = None

    def prepare(self) -> "Experiment":
        """theta_0 built or loaded (:meth:`build_theta0`) and the inputs tokenised (:meth:`encode_inputs`);
        done once, returns the experiment."""
        if not self.prepared:
            self.build_theta0(self.manifest)
            self.encode_inputs()
            self.prepared = True
        return self

    # -- setup ----------------------------------------------------------------------------
    def read_inputs(self) -> dict:
        """The frozen contexts, held-out contexts and prompts this run uses; returns the manifest so far."""
        cfg = self.cfg
        tech = verify_assets(TECH_DIR)
        self.train_contexts = load_contexts(split="train")
        self.contexts = spread_subset(self.train_contexts, cfg.n_contexts)
        self.heldout = spread_subset(load_contexts(split="heldout"), cfg.n_heldout)
        self.prompts = spread_subset(load_prompt_bank(), cfg.n_prompts)
        self.N = len(self.prompts) * cfg.responses_per_prompt
        if cfg.m > self.N:
            raise ValueError(f"m={cfg.m} exceeds the number of responses N={self.N} "
                             f"({len(self.prompts)} prompts x {cfg.responses_per_prompt}); "
                             "lower m or raise responses_per_prompt")
        return {"config": cfg.as_dict(),
                "assets": {k: v for k, v in tech["files"].items() if not k.startswith("licenses/")},
                "versions": _versions()}

    def build_theta0(self, manifest: dict) -> None:
        """theta_0: built (from-scratch models, possibly on more contexts than the recursion uses) or
        loaded from the cache, checked against the parameters recorded when it was made; the whole
        manifest is checked against the run folder's."""
        cfg = self.cfg
        base_contexts = self.contexts if cfg.base_contexts is None else spread_subset(self.train_contexts,
                                                                                      cfg.base_contexts)
        self.base_path, self.base_info = build_base_model(cfg, [c["text"] for c in base_contexts], self.cache_dir,
                                                          self.progress)
        manifest.update({"base_model": self.base_info, "hardware": hardware(cfg.device),
                         "inputs": {"contexts": [c["id"] for c in self.contexts][:3] + ["..."],
                                    "n_contexts": len(self.contexts), "n_heldout": len(self.heldout),
                                    "n_prompts": len(self.prompts), "N": self.N}})
        _check_manifest(self.run_dir, manifest)
        model0, self.tok = load_pretrained(str(self.base_path), "cpu")
        self.theta0_hash = params_hash(model0)
        if self.base_info.get("params_hash") not in (None, self.theta0_hash):
            raise ValueError(f"theta_0 at {self.base_path} does not hold the parameters recorded when it was made "
                             f"({self.theta0_hash} != {self.base_info['params_hash']}); delete it to rebuild it")
        self.theta0_state = {k: v.detach().clone() for k, v in model0.state_dict().items()}
        self.theta0_sq_norm = squared_norm(self.theta0_state)

    def encode_inputs(self) -> None:
        """Token blocks of the real and held-out contexts, prompt ids, and one row per response."""
        cfg = self.cfg
        self.pad_id = self.tok.pad_token_id
        self.banned_ids = sorted(set(self.tok.all_special_ids)) if cfg.suppress_special_tokens else None
        self.real = encode_blocks(self.tok, [c["text"] for c in self.contexts], cfg.context_tokens)
        self.heldout_blocks = encode_blocks(self.tok, [c["text"] for c in self.heldout], cfg.context_tokens)
        self.context_prompts = [row[m.bool()].tolist() for row, m in zip(*self.real)]
        self.prompt_ids = [self.tok(p["text"])["input_ids"] for p in self.prompts]
        self.rows = [(p, j) for p in self.prompts for j in range(cfg.responses_per_prompt)]
        self.buckets = [p["bucket"] for p, _ in self.rows]

    # -- stages ---------------------------------------------------------------------------
    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = load_encoder(self.cfg.device)
        return self._encoder

    def load_model(self, path: Path):
        """The model at ``path``: theta_0, or a finished generation's ``model`` folder, re-trained first
        when ``keep_checkpoints="last"`` dropped it (:meth:`restore_model`)."""
        path = Path(path)
        if path.name == "model" and not path.is_dir() and is_done(path.parent):
            self.restore_model(path.parent)
        model, _ = load_pretrained(str(path), self.cfg.device)
        return model

    def restore_model(self, folder: Path) -> None:
        """Re-train the dropped weights of the finished generation ``folder`` and put them back, once
        their parameter hash equals the ``end_params`` it recorded (same seeds, same bits).

        Needed when S1 joins a run after S2 moved past generation 1: they share that generation,
        whose weights S1's pool at generation 2 is sampled from. A shared generation 1 was trained under
        either name (the seeds include it), so both are tried, the partner's first.
        """
        setting, g = folder.parent.name, int(folder.name.split("_")[1])
        recorded = read_done(folder)["metrics"]["end_params"]
        prev = self.base_path if g == 1 else folder.parent / f"gen_{g - 1:03d}" / "model"
        shared = g == 1 and setting in SHARED_FIRST_GENERATION
        names = [s for s in SHARED_FIRST_GENERATION if s != setting] + [setting] if shared else [setting]
        for name in names:
            self.log(f"{setting} g{g}: weights dropped earlier, re-training them as {name} g{g}")
            timed = StageTimer()
            blocks = self.training_blocks(name, g, prev, timed=timed)
            model, trained = self.train(name, g, blocks, prev, timed=timed)
            if trained["end_params"] == recorded:
                add_model(folder, model, self.tok)
                return
        raise RuntimeError(f"could not restore the weights of {folder}: re-training gave other parameters than the "
                           f"recorded {recorded} (another machine, library version or thread count?)")

    def evaluate(self, model, generation: int, stream: str, *, timed: StageTimer, desc: str):
        """Responses to the prompt bank (``k`` per prompt) and their embeddings ``(N, d)``."""
        cfg = self.cfg
        with timed("evaluate"):
            seeds = [derive_seed(cfg.seed, generation, stream, p["id"], j) for p, j in self.rows]
            prompts = [self.prompt_ids[i // cfg.responses_per_prompt] for i in range(len(self.rows))]
            toks = sample(inference_copy(model, cfg.precision), prompts, seeds, cfg.response_tokens, top_p=cfg.top_p,
                          temperature=cfg.temperature, batch_size=cfg.sample_batch_size, pad_id=self.pad_id,
                          device=cfg.device, progress=self.progress,
                          desc=f"{desc} responses", banned_ids=self.banned_ids)
            texts = [self.tok.decode(truncate_at_eos(x, self.tok.eos_token_id), skip_special_tokens=True)
                     for x in toks]
        with timed("embed"):
            emb = embed_texts(self.encoder, texts, cfg.embed_batch_size)
        rows = [{"prompt_id": p["id"], "bucket": p["bucket"], "response": j, "text": x}
                for (p, j), x in zip(self.rows, texts)]
        return rows, emb

    def monitor_for(self, emb0: np.ndarray):
        """The baseline's tracks on the run's index sets, measured once; later checkpoints compare to it."""
        cfg = self.cfg
        with threadpool_limits(limits=1, user_api="blas"):  # as in `measure`: the same bits whatever the BLAS threads
            return baseline_monitor(emb0, cfg.m, cfg.index_seed_value, cfg.eps, cfg.n_draws)

    def measure(self, rows, emb, model, *, baseline: Baseline) -> dict:
        """Every signal of one checkpoint: both tracks against ``baseline``, spectral, per-bucket and
        surface signals, and the held-out NLL of ``model``."""
        cfg = self.cfg
        texts = [r["text"] for r in rows]
        # One BLAS thread: torch's OpenMP threads keep spinning after each op, and BLAS threads
        # competing with them on 2 cores made this stage 10x slower.
        with threadpool_limits(limits=1, user_api="blas"):
            out = track_metrics(emb, baseline.monitor)
            out.update(spectral_metrics(emb))
            out["buckets"] = bucket_metrics(emb, baseline.emb, self.buckets, cfg.eps)
        out.update(surface_metrics(texts))
        out["heldout_nll"], out["heldout_nll_se"] = nll_with_error(model, *self.heldout_blocks, device=cfg.device,
                                                                   precision=cfg.precision)
        return out

    def baseline(self) -> Baseline:
        """Generation 0, computed unless done earlier, verified, with its index-set tracks."""
        folder = generation_dir(self.run_dir, "base", 0)
        if not is_done(folder):
            self.compute_baseline(folder)
        read_done(folder)
        emb0 = load_embeddings(folder)  # the stored, verified bits: what a resumed run compares with too
        return Baseline(folder, emb0, self.monitor_for(emb0))

    def compute_baseline(self, folder: Path) -> None:
        """theta_0 evaluated (twice with ``reseed_baseline``: the evaluation's own noise), committed."""
        timed = StageTimer()
        model = self.load_model(self.base_path)
        rows, emb = self.evaluate(model, 0, "eval", timed=timed, desc="g0")
        base = Baseline(folder, emb, self.monitor_for(emb))
        with timed("measure"):
            metrics = self.measure(rows, emb, model, baseline=base)
        w = GenerationWriter(folder)
        if self.cfg.reseed_baseline:
            rows2, emb2 = self.evaluate(model, 0, "eval-reseed", timed=timed, desc="g0 reseeded")
            with timed("measure"):
                metrics["reseed"] = self.measure(rows2, emb2, model, baseline=base)
            w.jsonl("responses_reseed.jsonl", rows2)
            w.array("embeddings_reseed.npy", emb2)
        metrics.update(start_params=self.theta0_hash, end_params=self.theta0_hash, timings=timed.seconds,
                       weight_distance=0.0, weight_step=0.0)
        w.jsonl("responses.jsonl", rows)
        w.array("embeddings.npy", emb)
        w.commit(metrics)

    def pool(self, model, setting: str, g: int, *, timed: StageTimer) -> tuple[torch.Tensor, torch.Tensor, list]:
        """The synthetic pool: ``model`` continues every real context (token blocks, masks, continuations)."""
        cfg = self.cfg
        with timed("pool"):
            seeds = [derive_seed(cfg.seed, g, "pool", c["id"]) for c in self.contexts]
            cont = sample(inference_copy(model, cfg.precision), self.context_prompts, seeds, cfg.continuation_tokens,
                          top_p=cfg.top_p, temperature=cfg.temperature, batch_size=cfg.sample_batch_size,
                          pad_id=self.pad_id, device=cfg.device, progress=self.progress, desc=f"{setting} g{g} pool",
                          banned_ids=self.banned_ids)
            syn_ids = torch.tensor(cont, dtype=torch.long)
            syn_mask = torch.ones_like(syn_ids)
            for r, x in enumerate(cont):  # nothing after an end-of-text token is trained on
                syn_mask[r, len(truncate_at_eos(x, self.tok.eos_token_id)):] = 0
        return syn_ids, syn_mask, cont

    # -- one generation -------------------------------------------------------------------
    def generation(self, setting: str, g: int, prev_folder: Path, baseline: Baseline) -> Path:
        """Compute and commit generation ``g`` of ``setting`` in five steps; returns its folder."""
        timed = StageTimer()
        prev_path = self.base_path if g == 1 else prev_folder / "model"
        # 1. training blocks: real contexts, a pool sampled from the previous model, or both
        blocks = self.training_blocks(setting, g, prev_path, timed=timed)
        # 2. train: from theta_0 (S1) or from the previous generation (S2 and the controls)
        model, trained = self.train(setting, g, blocks, prev_path, timed=timed)
        # 3. evaluate: k responses to every prompt, and their embeddings
        rows, emb = self.evaluate(model, g, "eval", timed=timed, desc=f"{setting} g{g}")
        # 4. measure: both tracks against generation 0, the other signals, the held-out NLL
        with timed("measure"):
            metrics = self.measure(rows, emb, model, baseline=baseline)
        metrics.update(start_params=trained["start_params"], end_params=trained["end_params"], timings=timed.seconds,
                       train_tokens=trained["train_tokens"], train_final_loss=trained["train_final_loss"],
                       n_real_blocks=len(blocks.real_ids), n_synthetic_blocks=blocks.n_synthetic,
                       real_context_ids=blocks.real_ids, weight_distance=trained["weight_distance"],
                       weight_step=trained["weight_step"])
        # 5. save: pool, responses, embeddings, weights and metrics, committed atomically
        folder = generation_dir(self.run_dir, setting, g)
        self.save(folder, setting, blocks=blocks, rows=rows, emb=emb, model=model, metrics=metrics)
        return folder

    def training_blocks(self, setting: str, g: int, prev_path: Path, *, timed: StageTimer) -> TrainingBlocks:
        """Step 1: the blocks generation ``g`` of ``setting`` trains on (module docstring, steps 1-2)."""
        cfg, data, n = self.cfg, setting_spec(setting)["data"], len(self.contexts)
        pool = None
        if data == "new-real":
            records = self.new_real_contexts(g)
            ids, mask = encode_blocks(self.tok, [c["text"] for c in records], cfg.context_tokens)
            return TrainingBlocks(*_cat_blocks([(ids, mask)], self.pad_id), [c["id"] for c in records], 0, None)
        if data == "replace":
            real_idx, syn_idx = mixture_indices(n, n, n, cfg.setting_alpha(setting), cfg.seed, g)
            parts = [(self.real[0][real_idx], self.real[1][real_idx])] if real_idx else []
            if syn_idx:  # alpha = 1 needs no synthetic pool
                pool = self.pool(self.load_model(prev_path), setting, g, timed=timed)
                parts.append((pool[0][syn_idx], pool[1][syn_idx]))
        else:
            pool = self.pool(self.load_model(prev_path), setting, g, timed=timed)
            parts, real_idx, syn_idx = self.accumulated(setting, g, pool[0], pool[1], data)
        ids, mask = _cat_blocks(parts, self.pad_id)
        return TrainingBlocks(ids, mask, [self.contexts[i]["id"] for i in real_idx], len(syn_idx), pool)

    def train(self, setting: str, g: int, blocks: TrainingBlocks, prev_path: Path, *,
              timed: StageTimer) -> tuple[object, dict]:
        """Step 2: the model of generation ``g``, trained on ``blocks``, and what its training recorded
        (parameter hashes before and after, tokens, final loss, distances from theta_0 and from its start)."""
        cfg = self.cfg
        model = self.load_model(self.base_path if setting_spec(setting)["start"] == "theta0" else prev_path)
        start_hash = params_hash(model)
        start_state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
        with timed("train"):
            stats = train_causal_lm(model, blocks.ids, blocks.mask, epochs=cfg.epochs, batch_size=cfg.batch_size,
                                    lr=cfg.lr, weight_decay=cfg.weight_decay,
                                    seed_parts=(cfg.seed, setting, g, "train"),
                                    device=cfg.device, progress=self.progress, desc=f"{setting} g{g} train",
                                    precision=cfg.precision, fused_adamw=cfg.fused_adamw)
        return model, {"start_params": start_hash, "end_params": params_hash(model), "train_tokens": stats.tokens,
                       "train_final_loss": stats.final_loss,
                       "weight_distance": relative_distance(model, self.theta0_state, self.theta0_sq_norm),
                       "weight_step": relative_distance(model, start_state, self.theta0_sq_norm)}

    def save(self, folder: Path, setting: str, *, blocks: TrainingBlocks, rows, emb, model, metrics: dict) -> None:
        """Step 5: write the generation's files and commit it (:class:`.checkpoint.GenerationWriter`)."""
        w = GenerationWriter(folder)
        if blocks.pool is not None:
            w.jsonl("pool.jsonl", [{"context_id": c["id"], "text": self.tok.decode(
                truncate_at_eos(x, self.tok.eos_token_id), skip_special_tokens=True)}
                for c, x in zip(self.contexts, blocks.pool[2])])
            if setting_spec(setting)["data"].startswith("accumulate"):  # later generations train on it again
                w.array("pool_tokens.npy", blocks.pool[0].numpy())
                w.array("pool_mask.npy", blocks.pool[1].numpy().astype(np.int8))
        w.jsonl("responses.jsonl", rows)
        w.array("embeddings.npy", emb)
        w.model(model, self.tok)
        w.commit(metrics)

    def accumulated(self, setting: str, g: int, syn_ids: torch.Tensor, syn_mask: torch.Tensor, data: str):
        """Training blocks of the accumulate settings: every real context and the synthetic pools of
        generations 1..g of ``setting`` (``accumulate``), or that union subsampled to the constant
        budget of ``n`` blocks (``accumulate-subsample``, a seeded draw without replacement).

        Returns ``(parts, real_indices, synthetic_indices)``; synthetic indices count over the
        concatenated pools, oldest first.
        """
        n = len(self.contexts)
        pools_ids, pools_mask = [], []
        for h in range(1, g):
            folder = generation_dir(self.run_dir, setting, h)
            read_done(folder)
            pools_ids.append(torch.from_numpy(np.load(folder / "pool_tokens.npy", allow_pickle=False)))
            pools_mask.append(torch.from_numpy(np.load(folder / "pool_mask.npy", allow_pickle=False).astype(np.int64)))
        all_ids, all_mask = torch.cat(pools_ids + [syn_ids]), torch.cat(pools_mask + [syn_mask])
        real_idx, syn_idx = list(range(n)), list(range(all_ids.shape[0]))
        if data == "accumulate-subsample":
            pick = self.subsample_pick(setting, g, len(syn_idx))
            real_idx, syn_idx = [i for i in pick if i < n], [i - n for i in pick if i >= n]
        parts = [(self.real[0][real_idx], self.real[1][real_idx])] if real_idx else []
        if syn_idx:
            parts.append((all_ids[syn_idx], all_mask[syn_idx]))
        return parts, real_idx, syn_idx

    def subsample_pick(self, setting: str, g: int, n_synthetic: int) -> list[int]:
        """``accumulate-subsample``: which ``n`` of the ``n`` real and ``n_synthetic`` pooled blocks
        generation ``g`` trains on (a seeded draw without replacement; real blocks first)."""
        n = len(self.contexts)
        pick = torch.randperm(n + n_synthetic, generator=generator(self.cfg.seed, setting, g, "subsample"))[:n]
        return pick.sort().values.tolist()

    def new_real_contexts(self, g: int) -> list[dict]:
        """``new-real``'s real contexts at generation ``g``: ``n_contexts`` windows of block ``g - 1``
        of the frozen unused TECH windows (disjoint across generations; verified before use)."""
        from ..corpus.new_real import load_new_real_block

        return spread_subset(load_new_real_block(g - 1), len(self.contexts))

    def expected_real_ids(self, setting: str, g: int) -> list[str]:
        """The ids of the real contexts generation ``g`` of ``setting`` trains on (checked on resume)."""
        spec, n = setting_spec(setting), len(self.contexts)
        if spec["data"] == "new-real":
            return [c["id"] for c in self.new_real_contexts(g)]
        if spec["data"] == "replace":
            real_idx = mixture_indices(n, n, n, self.cfg.setting_alpha(setting), self.cfg.seed, g)[0]
        elif spec["data"] == "accumulate":
            real_idx = list(range(n))
        else:  # every generation adds a pool of n blocks
            real_idx = [i for i in self.subsample_pick(setting, g, n * g) if i < n]
        return [self.contexts[i]["id"] for i in real_idx]

    def check_real_ids(self, folder: Path, setting: str, g: int) -> None:
        """Refuse a finished generation that trained on other real contexts than this run would."""
        recorded = read_done(folder, verify=False)["metrics"].get("real_context_ids")
        if recorded is not None and recorded != self.expected_real_ids(setting, g):
            raise ValueError(f"{folder} trained on other real contexts than this run's {setting} g{g} would "
                             f"({len(recorded)} recorded ids differ from the expected ones); delete it to recompute it")

    def share_first_generation(self, src_setting: str, dst_setting: str) -> None:
        """S1 and S2 coincide at g = 1 (both train theta_0 on theta_0's pool at the same alpha):
        copy the finished generation 1 of one into the other (verified, atomically), before
        ``keep_checkpoints="last"`` can drop its model."""
        src, dst = generation_dir(self.run_dir, src_setting, 1), generation_dir(self.run_dir, dst_setting, 1)
        if is_done(dst) or not is_done(src):
            return
        read_done(src)
        atomic_replace_dir(dst, lambda tmp: shutil.copytree(src, tmp, dirs_exist_ok=True))

    # -- the loop -------------------------------------------------------------------------
    def run(self, stop_after: tuple[str, int] | None = None) -> dict[str, list[dict]]:
        """Every generation of every setting, each resumed when done earlier; returns the tables.

        With ``workers > 1`` the settings run side by side in worker processes after generation 0
        (:mod:`.parallel`; the same tables); ``stop_after`` (tests) runs them one after the other.
        """
        self.prepare()
        baseline = self.baseline()
        if self.cfg.workers > 1 and len(setting_groups(self.cfg.settings)) > 1 and stop_after is None:
            run_settings_in_workers(self, baseline)
        else:
            for setting in self.cfg.settings:
                self.run_setting(setting, baseline, stop_after=stop_after)
        return self.write_tables()

    def run_setting(self, setting: str, baseline: Baseline, *, stop_after: tuple[str, int] | None = None) -> None:
        """Generations 1..G of ``setting``: resumed or computed, logged, older weights pruned."""
        tracker = GenerationTracker(self.report_to, self.run_dir / "tensorboard" / setting)
        tracker.log(read_done(baseline.folder, verify=False)["metrics"], generation=0)
        prev = baseline.folder
        for g in range(1, self.cfg.generations + 1):
            folder = self.resume_or_compute(setting, g, prev, baseline)
            tracker.log(read_done(folder, verify=False)["metrics"], generation=g)
            if self.cfg.keep_checkpoints == "last" and g > 1:
                remove_model(prev)
            prev = folder
            if stop_after == (setting, g):
                self.write_tables()
                raise RunInterrupted(f"stopped after {setting} g{g} (stop_after)")
        tracker.close()

    def resume_or_compute(self, setting: str, g: int, prev: Path, baseline: Baseline) -> Path:
        """Generation ``g`` of ``setting``: verified when done earlier (and trained on the real contexts
        this run would use), else computed and the tables rewritten; S1 and S2 share generation 1."""
        folder = generation_dir(self.run_dir, setting, g)
        pair = [s for s in SHARED_FIRST_GENERATION if s in self.cfg.settings]
        partner = pair[1 - pair.index(setting)] if g == 1 and len(pair) == 2 and setting in pair else None
        if partner:
            self.share_first_generation(partner, setting)
        if is_done(folder):
            read_done(folder)
            self.check_real_ids(folder, setting, g)
            self.log(f"{setting} g{g}: done earlier, verified")
        else:
            self.generation(setting, g, prev, baseline)
            self.write_tables()  # a run read (or exported) while it goes sees every finished generation
        if partner:
            self.share_first_generation(setting, partner)
        return folder

    def write_tables(self) -> dict[str, list[dict]]:
        """Rebuild every table from the finished generation folders (atomic CSV writes)."""
        tables: dict[str, list[dict]] = {"generations": [], "buckets": [], "noise": [], "noise_buckets": [],
                                          "timings": []}
        base = generation_dir(self.run_dir, "base", 0)
        if not is_done(base):
            return tables
        base_metrics = read_done(base, verify=False)["metrics"]
        for setting in self.cfg.settings:
            for g in range(0, self.cfg.generations + 1):
                folder = generation_dir(self.run_dir, setting, g)
                if not is_done(folder):
                    break
                m = base_metrics if g == 0 else read_done(folder, verify=False)["metrics"]
                row = {"setting": setting, "generation": g}
                row.update({k: v for k, v in m.items() if not isinstance(v, (dict, list))})
                tables["generations"].append(row)
                tables["buckets"] += [{"setting": setting, "generation": g, **b} for b in m["buckets"]]
                tables["timings"] += [{"setting": setting, "generation": g, "stage": k, "seconds": v}
                                      for k, v in m["timings"].items()]
        if "reseed" in base_metrics:
            r = base_metrics["reseed"]
            tables["noise"].append({"kind": "theta_0 evaluated with other seeds", "drift_U": r["drift_U"],
                                    "drift_gamma_kf": r["drift_gamma_kf"], "index_set_noise_U": r["noise_U"],
                                    "distinct_2_change": r["distinct_2"] - base_metrics["distinct_2"],
                                    "hhi_change": r["hhi"] - base_metrics["hhi"],
                                    **{f"{k}_change": r[k] - base_metrics[k] for k in ("vendi", "rankme", "heldout_nll")
                                       if k in r and k in base_metrics}})
            tables["noise_buckets"] = [{"bucket": b["bucket"], "n_responses": b["n_responses"],
                                        "reseed_drift_U": b["drift_U"]}
                                       for b in r.get("buckets", [])]
        out = self.run_dir / "tables"
        for name, rows in tables.items():
            if rows:
                write_csv(rows, out / f"{name}.csv")
        return tables


def run_experiment(cfg: RunConfig, run_dir: str | Path, cache_dir: str | Path | None = None, *, progress: bool = True,
                   stop_after: tuple[str, int] | None = None, log=print,
                   report_to: str = "none") -> dict[str, list[dict]]:
    """Run (or resume) a recursion experiment; returns the tables (also written to ``run_dir/tables``).

    ``report_to="tensorboard"`` also logs every generation's metrics (step = generation) to
    ``run_dir/tensorboard/<setting>``; nothing leaves the machine by default (``"none"``).
    """
    return Experiment(cfg, run_dir, cache_dir, progress=progress, log=log, report_to=report_to).run(stop_after)
