"""Sigma-UB in a PyTorch Lightning run: a callback that logs ``sigma/*`` through ``log_dict``.

The probe runs at the start of the first training batch (the baseline, the model before any
optimiser step) and then at the start of every batch whose ``trainer.global_step`` is a
multiple of ``every_n_steps``: the model after ``global_step`` optimiser steps, logged at
Lightning's step ``global_step`` (the step at which the batch's own ``training_step`` logs its
loss). Values go through ``pl_module.log_dict(on_step=True)``, so every logger attached to the
``Trainer`` (TensorBoard, CSV, W&B, MLflow, ...) receives them; Lightning writes step metrics
every ``log_every_n_steps`` batches (and repeats a step value at every later write), so the
callback writes a measurement that falls between two such writes itself (through the same
loggers, at the same step) and keeps each value to its own step. Under DDP every rank
measures its share of the prompt bank (see :mod:`sigma_lib.apps.callback`); Lightning's loggers write
on rank 0 only.
"""
from __future__ import annotations

from typing import Callable

import pytorch_lightning as pl

from .callback import SIGMA_KEYS, SigmaProbe, sigma_entries


class SigmaLightningCallback(pl.Callback):
    """Run ``probe`` every ``every_n_steps`` optimiser steps of a Lightning run.

    Parameters
    ----------
    probe : SigmaProbe
    every_n_steps : int
    get_model : callable ``pl_module -> causal LM`` (default: ``pl_module.model`` if present, else
        the module itself): the ``transformers`` model the probe samples from.

    Examples
    --------
    >>> probe = SigmaProbe(prompts, tokenizer, m=512)                        # doctest: +SKIP
    >>> trainer = pl.Trainer(max_steps=5000, logger=TensorBoardLogger("tb"),
    ...                      callbacks=[SigmaLightningCallback(probe, every_n_steps=500)])  # doctest: +SKIP
    >>> trainer.fit(module, loader)      # TensorBoard: sigma/drift_U, sigma/noise_U, ...   # doctest: +SKIP
    """

    def __init__(self, probe: SigmaProbe, every_n_steps: int, get_model: Callable | None = None):
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be a positive number of steps, got {every_n_steps}")
        self.probe, self.every_n_steps = probe, int(every_n_steps)
        self.get_model = get_model or (lambda module: getattr(module, "model", module))
        self._last_step: int | None = None

    @staticmethod
    def _forget_logged(trainer) -> None:
        """Lightning keeps a step value and writes it again at every later write until it is
        logged anew; a measurement belongs to its own step only, so the previous one is dropped."""
        results = getattr(trainer, "_results", None)
        for item in (results.values() if results is not None else ()):
            if item.meta.name in SIGMA_KEYS and not item.has_reset:
                item.reset()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._forget_logged(trainer)
        step = trainer.global_step
        if self._last_step == step or (step % self.every_n_steps and self.probe.monitor.records):
            return  # measured already (gradient accumulation repeats a step), or not a probe step
        self._last_step = step
        rec = self.probe.measure(self.get_model(pl_module), checkpoint=step)
        entries = sigma_entries(rec)
        pl_module.log_dict(entries, on_step=True, on_epoch=False, prog_bar=False, logger=True)
        if not trainer._logger_connector.should_update_logs:
            # Lightning would drop a step value logged between two log_every_n_steps writes: write
            # this one now, through the same loggers, at the step Lightning would have used.
            for lg in trainer.loggers:
                lg.log_metrics(entries, step=trainer.fit_loop.epoch_loop._batches_that_stepped)
