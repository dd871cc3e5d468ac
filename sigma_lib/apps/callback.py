"""Sigma-UB inside a training loop: a probe for custom loops, a ``transformers`` callback.

At each checkpoint the model answers a fixed prompt bank (``k`` responses per prompt, the same
per-response seeds every time), the frozen encoder embeds the answers, and a
:class:`~sigma_lib.maths.monitor.SigmaMonitor` returns Track I/II, their drift against the first
checkpoint and its noise band. A warning is issued when Track II's drift falls more than
``warn_at`` noise standard deviations below zero.

The response slots (prompt ``i``, response ``j``) are cut into blocks of ``batch_size`` slots;
each block is sampled in one batch and embedded in one call, and contributes the partial
observed Grams of its rows (:func:`sigma_lib.apps.sharded.partial_grams`). Under
``torch.distributed`` (DDP, FSDP with a gathered model, ``accelerate launch``, ``torchrun``)
every rank samples and embeds a contiguous share of the blocks, the partial Grams are summed
with one ``all_reduce``, and every rank holds the same record; only rank 0 warns, and the
Trainer's integrations log on the main process only. Blocks, seeds and index sets depend on the
prompt bank, ``k``, ``batch_size`` and ``seed`` alone, never on the world size, so one process
and eight give the same numbers (to float64 round-off of the final sum).

:func:`add_sigma_callback` attaches the probe to a ``transformers.Trainer`` so that the
``sigma/*`` entries go through ``Trainer.log``: into ``trainer.state.log_history`` and to every
``report_to`` integration (TensorBoard, W&B, MLflow, ...), at the Trainer's global step.
:mod:`sigma_lib.apps.lightning` does the same for PyTorch Lightning.
"""
from __future__ import annotations

import logging
import warnings

import numpy as np

from ..maths.monitor import CheckpointRecord, SigmaMonitor
from .sharded import Partial, partial_grams, tracks_from_partial

logger = logging.getLogger(__name__)

#: The keys every integration receives (the Trainer's TensorBoard and W&B integrations show them
#: under ``train/``, e.g. ``train/sigma/drift_U``).
SIGMA_KEYS = ("sigma/U", "sigma/drift_U", "sigma/noise_U", "sigma/gamma_kf", "sigma/drift_gamma_kf",
              "sigma/noise_gamma_kf")


def sigma_entries(rec: CheckpointRecord) -> dict[str, float]:
    """The ``sigma/*`` metrics of one record, as logged by every callback."""
    return {"sigma/U": rec.U, "sigma/drift_U": rec.drift_U, "sigma/noise_U": rec.noise_U,
            "sigma/gamma_kf": rec.gamma_kf, "sigma/drift_gamma_kf": rec.drift_gamma_kf,
            "sigma/noise_gamma_kf": rec.noise_gamma_kf}


def dist_rank_world() -> tuple[int, int]:
    """``(rank, world_size)`` under an initialised ``torch.distributed`` group, else ``(0, 1)``."""
    try:
        import torch.distributed as dist
    except ImportError:
        return 0, 1
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _all_reduce_partial(part: Partial | None, n_sets: int) -> Partial:
    """Sum the ranks' partial Grams (one ``all_reduce``); the identity with a single process."""
    rank, world = dist_rank_world()
    if world == 1:
        if part is None:
            raise ValueError("no response was measured")
        return part
    import torch
    import torch.distributed as dist

    device = torch.device("cpu")
    if dist.get_backend() == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    d = torch.tensor([part.d if part else 0], dtype=torch.int64, device=device)
    dist.all_reduce(d, op=dist.ReduceOp.MAX)  # a rank with no block learns the dimension
    d = int(d.item())
    buf = torch.zeros((n_sets * d * d + 1,), dtype=torch.float64, device=device)
    if part is not None:
        buf[:-1] = torch.from_numpy(np.stack(part.grams).reshape(-1)).to(device)
        buf[-1] = part.n
    dist.all_reduce(buf, op=dist.ReduceOp.SUM)
    flat = buf.cpu().numpy()
    return Partial(list(flat[:-1].reshape(n_sets, d, d)), int(round(flat[-1])), d)


class SigmaProbe:
    """Measure a causal LM's response diversity with Sigma-UB, checkpoint after checkpoint.

    Parameters
    ----------
    prompts : list of str, the frozen prompt bank
    tokenizer : the model's tokenizer (``transformers``)
    responses_per_prompt : k; ``len(prompts) * k`` must exceed ``m``
    max_new_tokens, top_p, temperature : decoding
    m : observed block size (> d = 384 for MiniLM)
    seed : fixes the observed index set and every response's sampling stream
    encoder : a ``SentenceTransformer``; default the bundled all-MiniLM-L6-v2
    device : where to sample and embed; ``None``: the model's device (each rank's own GPU under DDP)
    batch_size : response slots per block (one sampling batch, one encoder call); part of the
        measurement's definition, like ``seed``: keep it fixed across a run and across world sizes
    warn_at : warn when ``drift_U < -warn_at * noise_U``
    """

    def __init__(self, prompts: list[str], tokenizer, *, responses_per_prompt: int = 4, max_new_tokens: int = 32,
                 top_p: float = 0.95, temperature: float = 1.0, m: int = 512, seed: int = 0, encoder=None,
                 device: str = "cpu", warn_at: float = 2.0, n_draws: int = 50, batch_size: int = 64):
        if not prompts:
            raise ValueError("the prompt bank is empty")
        self.prompts, self.tok, self.k = list(prompts), tokenizer, responses_per_prompt
        self.max_new_tokens, self.top_p, self.temperature = max_new_tokens, top_p, temperature
        self.device, self.warn_at, self.batch_size, self.seed = device, warn_at, batch_size, seed
        N = len(self.prompts) * responses_per_prompt
        self.monitor = SigmaMonitor(N, m, seed=seed, n_draws=n_draws)
        self._encoder = encoder

    @property
    def index_sets(self) -> list[np.ndarray]:
        """The run's observed index set, then the re-drawn ones of the noise band."""
        return [self.monitor.observed, *self.monitor._draw_sets]

    def blocks(self) -> list[tuple[int, int]]:
        """The response-slot blocks ``[lo, hi)``: one sampling batch and one encoder call each."""
        N = self.monitor.N
        return [(lo, min(lo + self.batch_size, N)) for lo in range(0, N, self.batch_size)]

    def measure(self, model, checkpoint: str | int | None = None) -> CheckpointRecord:
        """Sample, embed and score ``model`` now; the first call is the baseline.

        Under ``torch.distributed`` every rank must call it (it ends in a collective), with the
        same model weights; each samples its share of the blocks and all get the same record.
        """
        from ..recursion.embedding import embed_texts, load_encoder
        from ..recursion.sampling import sample, truncate_at_eos
        from ..recursion.seeds import derive_seed

        device = self.device or str(next(model.parameters()).device)
        if self._encoder is None:
            self._encoder = load_encoder(device)
        rank, world = dist_rank_world()
        blocks = self.blocks()
        mine = blocks[rank * len(blocks) // world : (rank + 1) * len(blocks) // world]
        ids = [self.tok(p)["input_ids"] for p in self.prompts]
        slots = [(i, j) for i in range(len(ids)) for j in range(self.k)]
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else (self.tok.eos_token_id or 0)
        sets = self.index_sets
        was_training = model.training
        part: Partial | None = None
        try:
            for lo, hi in mine:
                prompts = [ids[i] for i, _ in slots[lo:hi]]
                seeds = [derive_seed(self.seed, "probe", i, j) for i, j in slots[lo:hi]]
                toks = sample(model, prompts, seeds, self.max_new_tokens, top_p=self.top_p,
                              temperature=self.temperature, batch_size=hi - lo, pad_id=pad, device=device)
                texts = [self.tok.decode(truncate_at_eos(t, self.tok.eos_token_id), skip_special_tokens=True)
                         for t in toks]
                p = partial_grams(embed_texts(self._encoder, texts, self.batch_size), lo, sets, "probe responses")
                part = p if part is None else part + p
        finally:
            if was_training:
                model.train()
        total = _all_reduce_partial(part, len(sets))
        draws = tracks_from_partial(total, sets, self.monitor.N, self.monitor.eps)
        rec = self.monitor.update_from_draws(draws, checkpoint, require_m_above_d=True)
        if rank == 0 and rec.noise_U > 0 and rec.drift_U < -self.warn_at * rec.noise_U:
            msg = (f"Sigma-UB: Track II drift {rec.drift_U:.2f} nats at checkpoint {rec.checkpoint} is "
                   f"{-rec.drift_U / rec.noise_U:.1f} noise sd below the baseline: the responses are contracting")
            warnings.warn(msg, stacklevel=2)
            logger.warning(msg)
        return rec


_CALLBACK_CLASS = None


def _callback_class():
    """``SigmaCallback``, made at first use so that importing this module needs no transformers."""
    global _CALLBACK_CLASS
    if _CALLBACK_CLASS is not None:
        return _CALLBACK_CLASS
    from transformers import TrainerCallback

    class SigmaCallback(TrainerCallback):
        """Runs a :class:`SigmaProbe` at train begin (the baseline, step 0), then every
        ``every_n_steps`` optimiser steps (or at each epoch end when ``None``), and logs
        :data:`SIGMA_KEYS` through ``Trainer.log`` of the bound trainer."""

        def __init__(self, probe: SigmaProbe, every_n_steps: int | None = None, trainer=None):
            if every_n_steps is not None and every_n_steps < 1:
                raise ValueError(f"every_n_steps must be a positive number of steps or None, got {every_n_steps}")
            self.probe, self.every_n_steps, self.trainer = probe, every_n_steps, trainer
            self._last_step: int | None = None
            self._warned_unbound = False

        def bind(self, trainer) -> "SigmaCallback":
            """Log through ``trainer.log`` (and so to every ``report_to`` integration)."""
            self.trainer = trainer
            return self

        def _run(self, state, model):
            if self._last_step == state.global_step:  # e.g. the last step is also an epoch end
                return
            self._last_step = state.global_step
            rec = self.probe.measure(model, checkpoint=state.global_step)
            entries = sigma_entries(rec)
            if self.trainer is not None:
                self.trainer.log(entries)  # log_history + on_log of every integration, at global_step
                return
            state.log_history.append({**entries, "step": state.global_step})
            if not self._warned_unbound:
                self._warned_unbound = True
                warnings.warn("SigmaCallback is not bound to its Trainer: sigma/* go to trainer.state.log_history "
                              "only, not to the report_to integrations; use add_sigma_callback(trainer, probe) or "
                              "callback.bind(trainer)", stacklevel=3)

        def on_train_begin(self, args, state, control, model=None, **kw):
            if not self.probe.monitor.records:
                self._run(state, model)

        def on_step_end(self, args, state, control, model=None, **kw):
            if self.every_n_steps and state.global_step % self.every_n_steps == 0:
                self._run(state, model)

        def on_epoch_end(self, args, state, control, model=None, **kw):
            if not self.every_n_steps:
                self._run(state, model)

    _CALLBACK_CLASS = SigmaCallback
    return SigmaCallback


def make_sigma_callback(probe: SigmaProbe, every_n_steps: int | None = None, trainer=None):
    """A ``transformers.TrainerCallback`` running ``probe`` at train begin (the baseline), then
    every ``every_n_steps`` optimiser steps (or at each epoch end when ``None``).

    Bound to ``trainer`` (here, or later with ``.bind(trainer)``), it logs ``sigma/U``,
    ``sigma/drift_U``, ``sigma/noise_U``, ``sigma/gamma_kf``, ``sigma/drift_gamma_kf`` and
    ``sigma/noise_gamma_kf`` through ``Trainer.log``, so every ``report_to`` integration receives
    them at ``state.global_step``. A callback does not receive its Trainer from ``transformers``,
    so an unbound one can only append to ``trainer.state.log_history`` (and warns once).
    Prefer :func:`add_sigma_callback`.
    """
    return _callback_class()(probe, every_n_steps, trainer)


def add_sigma_callback(trainer, probe: SigmaProbe, every_n_steps: int | None = None):
    """Attach ``probe`` to ``trainer`` so that ``sigma/*`` reach every ``report_to`` integration.

    Examples
    --------
    >>> trainer = Trainer(model=model, args=TrainingArguments(..., report_to="tensorboard"),
    ...                   train_dataset=data)                       # doctest: +SKIP
    >>> add_sigma_callback(trainer, SigmaProbe(prompts, tokenizer), every_n_steps=500)  # doctest: +SKIP
    >>> trainer.train()   # TensorBoard: train/sigma/drift_U, train/sigma/noise_U, ...  # doctest: +SKIP
    """
    cb = make_sigma_callback(probe, every_n_steps, trainer)
    trainer.add_callback(cb)
    return cb
