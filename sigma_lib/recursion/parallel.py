"""The settings of one run side by side, in worker processes (``RunConfig.workers``).

After generation 0 the settings are independent, except S1 and S2, which share generation 1:
the parent process computes theta_0 and generation 0, then hands S1 and S2 together to one of
``workers`` processes and every other setting alone to the next free one (``spawn``, each
process with ``threads`` torch threads). A setting computes the same bits whichever process runs
it, so ``workers`` changes the wall time, never a table, and a run may resume with another count.
Whether it pays depends on the machine, the model and what else runs: ``benchmarks/bench_workers.py``
measures it (the README gives the figures).
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from .config import SHARED_FIRST_GENERATION, RunConfig


def setting_groups(settings) -> list[tuple[str, ...]]:
    """The settings as a worker takes them: S1 and S2 together, in the run's order (they share
    generation 1, which the first computes and the second copies), every other setting alone."""
    pair = tuple(s for s in settings if s in SHARED_FIRST_GENERATION)
    groups = [(s,) for s in settings if s not in SHARED_FIRST_GENERATION or len(pair) < 2]
    return [pair] + groups if len(pair) == 2 else groups


def run_settings_in_workers(exp, baseline) -> None:
    """Every setting of ``exp`` (an :class:`~.engine.Experiment`) in worker processes, at most
    ``exp.cfg.workers`` at a time, one group of :func:`setting_groups` each; each worker's log lines
    are passed to ``exp.log`` when it finishes.

    Raises what a worker raised (the first to fail; the others are cancelled or finish).
    """
    cfg, groups = exp.cfg, setting_groups(exp.cfg.settings)
    n_workers = min(cfg.workers, len(groups))
    exp.log(f"running {' | '.join(', '.join(g) for g in groups)} in {n_workers} worker processes")
    args = (cfg.as_dict(), str(exp.run_dir), str(exp.cache_dir), exp.progress)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch thread pools
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        pending = {pool.submit(run_settings, *args, group): group for group in groups}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                group = pending.pop(future)
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()
                for line in future.result():
                    exp.log(line)
                exp.log(f"{', '.join(group)}: finished ({len(groups) - len(pending)} of {len(groups)} groups)")


def run_settings(config: dict, run_dir: str, cache_dir: str, progress: bool, settings: tuple[str, ...]) -> list[str]:
    """Worker process: generations 1..G of each of ``settings``, in order, in the run at ``run_dir``;
    returns its log lines.

    The run's full configuration is rebuilt (so its manifest is left as it is), theta_0 is loaded from
    the cache the parent filled, and generation 0 is read, verified, from the run folder.
    """
    from .engine import Experiment

    said: list[str] = []
    cfg = RunConfig(**{**config, "settings": tuple(config["settings"])})
    exp = Experiment(cfg, Path(run_dir), cache_dir, progress=progress, log=said.append, clean=False)
    exp.prepare()
    baseline = exp.baseline()
    for setting in settings:
        exp.run_setting(setting, baseline)
    return said
