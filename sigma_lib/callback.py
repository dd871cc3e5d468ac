"""Sigma-UB inside a training loop: a function for custom loops and a ``transformers`` callback.

At each checkpoint the model answers a fixed prompt bank (``k`` responses per prompt, the same
per-response seeds every time), the frozen encoder embeds the answers, and a
:class:`~sigma_lib.monitor.SigmaMonitor` returns Track I/II, their drift against the first
checkpoint and its noise band. A warning is issued when Track II's drift falls more than
``warn_at`` noise standard deviations below zero.
"""
from __future__ import annotations

import logging
import warnings

from .monitor import CheckpointRecord, SigmaMonitor

logger = logging.getLogger(__name__)


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
    warn_at : warn when ``drift_U < -warn_at * noise_U``
    """

    def __init__(self, prompts: list[str], tokenizer, responses_per_prompt: int = 4, max_new_tokens: int = 32,
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

    def measure(self, model, checkpoint: str | int | None = None) -> CheckpointRecord:
        """Sample, embed and score ``model`` now; the first call is the baseline."""
        from .recursion.embedding import embed_texts, load_encoder
        from .recursion.sampling import sample, truncate_at_eos
        from .recursion.seeds import derive_seed

        if self._encoder is None:
            self._encoder = load_encoder(self.device)
        ids = [self.tok(p)["input_ids"] for p in self.prompts]
        prompts = [ids[i] for i in range(len(ids)) for _ in range(self.k)]
        seeds = [derive_seed(self.seed, "probe", i, j) for i in range(len(ids)) for j in range(self.k)]
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else (self.tok.eos_token_id or 0)
        was_training = model.training
        toks = sample(model, prompts, seeds, self.max_new_tokens, self.top_p, self.temperature, self.batch_size, pad,
                      self.device)
        if was_training:
            model.train()
        texts = [self.tok.decode(truncate_at_eos(t, self.tok.eos_token_id), skip_special_tokens=True) for t in toks]
        rec = self.monitor.update(embed_texts(self._encoder, texts, self.batch_size), checkpoint,
                                  require_m_above_d=True)
        if rec.noise_U > 0 and rec.drift_U < -self.warn_at * rec.noise_U:
            msg = (f"Sigma-UB: Track II drift {rec.drift_U:.2f} nats at checkpoint {rec.checkpoint} is "
                   f"{-rec.drift_U / rec.noise_U:.1f} noise sd below the baseline: the responses are contracting")
            warnings.warn(msg, stacklevel=2)
            logger.warning(msg)
        return rec


def make_sigma_callback(probe: SigmaProbe, every_n_steps: int | None = None):
    """A ``transformers.TrainerCallback`` that runs ``probe`` at train begin (baseline), then every
    ``every_n_steps`` optimiser steps (or at each epoch end when ``None``), and adds
    ``sigma/drift_U``, ``sigma/noise_U``, ``sigma/drift_gamma_kf``, ``sigma/U`` to the trainer's logs."""
    from transformers import TrainerCallback

    class SigmaCallback(TrainerCallback):
        def _run(self, state, model):
            rec = probe.measure(model, checkpoint=state.global_step)
            entry = {"step": state.global_step, "sigma/U": rec.U, "sigma/drift_U": rec.drift_U,
                     "sigma/noise_U": rec.noise_U, "sigma/gamma_kf": rec.gamma_kf, "sigma/drift_gamma_kf": rec.drift_gamma_kf}
            state.log_history.append(entry)

        def on_train_begin(self, args, state, control, model=None, **kw):
            if not probe.monitor.records:
                self._run(state, model)

        def on_step_end(self, args, state, control, model=None, **kw):
            if every_n_steps and state.global_step % every_n_steps == 0:
                self._run(state, model)

        def on_epoch_end(self, args, state, control, model=None, **kw):
            if not every_n_steps:
                self._run(state, model)

    return SigmaCallback()
