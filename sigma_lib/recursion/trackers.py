"""Experiment trackers for generation-indexed runs (the recursion engine), ``report_to``-style.

A recursion run is indexed by generation, not by optimiser step, and has no ``Trainer`` to carry
its metrics. :class:`GenerationTracker` sends one dict of scalars per generation to the trackers
named in ``report_to``, at step = generation. Nothing leaves the machine by default:
``report_to="none"``; ``"tensorboard"`` writes event files into a local folder (read them with
``tensorboard --logdir``). Non-numeric values (labels, paths) are skipped.

Examples
--------
>>> with GenerationTracker("tensorboard", log_dir="runs/s1") as tracker:   # doctest: +SKIP
...     for g, metrics in enumerate(per_generation_metrics):
...         tracker.log(metrics, generation=g)      # e.g. {"sigma/U": ..., "nll": ...}
"""
from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Iterable, Mapping

SUPPORTED = ("none", "tensorboard")


def _normalise(report_to) -> list[str]:
    if report_to is None:
        return []
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    out = []
    for n in names:
        n = str(n).lower()
        if n not in SUPPORTED:
            raise ValueError(f"report_to={n!r} is not supported for generation-indexed runs; choose from {SUPPORTED}")
        if n != "none" and n not in out:
            out.append(n)
    return out


def scalar_items(metrics: Mapping) -> list[tuple[str, float]]:
    """The loggable (finite or NaN) numeric entries of ``metrics``; booleans and text are skipped."""
    out = []
    for k, v in metrics.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            continue
        v = float(v)
        if math.isinf(v):
            continue
        out.append((str(k), v))
    return out


class GenerationTracker:
    """Log per-generation metrics to the trackers in ``report_to`` (default: none).

    Parameters
    ----------
    report_to : "none", "tensorboard", or a list of them
    log_dir : folder of the TensorBoard event files (required with ``"tensorboard"``)
    """

    def __init__(self, report_to: str | Iterable[str] | None = "none", log_dir: str | Path | None = None):
        self.report_to = _normalise(report_to)
        self._tb = None
        if "tensorboard" in self.report_to:
            if log_dir is None:
                raise ValueError("report_to='tensorboard' needs a log_dir for the event files")
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise ImportError("report_to='tensorboard' needs the tensorboard package "
                                  "(pip install tensorboard)") from None
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            self._tb = SummaryWriter(log_dir=str(log_dir))

    def log(self, metrics: Mapping, generation: int) -> None:
        """Send ``metrics`` (a dict of scalars) at step ``generation``."""
        if generation < 0:
            raise ValueError(f"generation must be non-negative, got {generation}")
        if self._tb is not None:
            for k, v in scalar_items(metrics):
                self._tb.add_scalar(k, v, int(generation))
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    def __enter__(self) -> "GenerationTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def log_generation_metrics(rows: Iterable[Mapping], report_to="none", log_dir=None,
                           generation_key: str = "generation") -> int:
    """Send a table of per-generation rows (each with ``generation_key``) to ``report_to``;
    returns the number of rows sent (0 when ``report_to`` is none)."""
    rows = list(rows)
    with GenerationTracker(report_to, log_dir) as tracker:
        if not tracker.report_to:
            return 0
        for row in rows:
            if generation_key not in row:
                raise ValueError(f"a row has no {generation_key!r} column: {sorted(row)[:6]}")
            tracker.log({k: v for k, v in row.items() if k != generation_key}, int(row[generation_key]))
    return len(rows)
