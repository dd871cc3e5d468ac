"""A dose-response of the diversity signals on real text: theta_0's stored responses with a known loss of diversity.

Take theta_0's evaluation responses of a run (generation 0: ``base/gen_000``, texts and their
embeddings) and replace a known fraction ``q`` of them, chosen at random, by copies:

* ``copies``: each replaced response becomes a copy of one of the responses that were kept;
* ``one-bucket``: each becomes a copy of a response to a prompt of one bucket (drawn once per draw).

A copied response keeps its embedding, so nothing is re-embedded and nothing needs a model. Each
signal's change from the unchanged responses is measured over ``n_draws`` seeded draws per ``q``:
Track II ``Delta U`` and Track I ``Delta Gamma_KF`` on the run's fixed observed index set (its
``m``, ``seed``, ``eps``; Algorithm 1), pooled distinct-2, the Vendi score and RankMe
(:mod:`sigma_lib.maths.signals`).

**Noise.** What a change must beat to be seen is the difference between two evaluations of the
same model. The engine evaluates theta_0 twice (``responses_reseed.jsonl``, other seeds): pooling
both gives ``2r`` responses per prompt, and each random split of every prompt's responses into
two halves of ``r`` is a pair of evaluations with no response in common. The sd of a signal's
difference over ``n_splits`` splits is its evaluation noise; a signal *detects* ``q`` when its
mean change exceeds twice that (the first such ``q`` of the grid is reported).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..maths.algorithm1 import algorithm1
from ..maths.observed import select_observed_indices
from ..maths.signals import rankme, vendi_score
from ..maths.surface import distinct_n
from ..recursion.checkpoint import generation_dir, load_embeddings, load_texts
from . import run_report as rr

MODES = ("copies", "one-bucket")
#: Each signal's column and its label on the page.
SIGNALS = {"drift_U": r"Track II $\Delta U$ (nats)", "drift_gamma_kf": r"Track I $\Delta\Gamma_{KF}$",
           "distinct_2": r"$\Delta$ distinct-2", "vendi": r"$\Delta$ Vendi score", "rankme": r"$\Delta$ RankMe"}
#: Each signal's short name in prose.
SHORT_NAMES = {"drift_U": "Track II", "drift_gamma_kf": "Track I", "distinct_2": "distinct-2", "vendi": "Vendi",
               "rankme": "RankMe"}
_RAW = {"drift_U": "U", "drift_gamma_kf": "gamma_kf", "distinct_2": "distinct_2", "vendi": "vendi", "rankme": "rankme"}


@dataclass(frozen=True)
class Theta0:
    """theta_0's stored evaluation of one run, twice (the second with other seeds).

    ``texts``, ``buckets``, ``prompt_ids``: one per response (``N``); ``embeddings``: ``(N, d)`` float64;
    ``reseed_*``: the second evaluation, same prompts in the same order; ``m``, ``seed``, ``eps``: the run's.
    """

    label: str
    texts: list
    buckets: np.ndarray
    prompt_ids: np.ndarray
    embeddings: np.ndarray
    reseed_texts: list
    reseed_embeddings: np.ndarray
    m: int
    seed: int
    eps: float
    stored_U: float

    @property
    def N(self) -> int:
        return self.embeddings.shape[0]

    @property
    def observed(self) -> np.ndarray:
        return select_observed_indices(self.N, self.m, self.seed)


def load_theta0(run_dir: str | Path, label: str) -> Theta0:
    """theta_0's two evaluations from a verified run folder (committed or a finished recursion run).

    Raises ``ValueError`` if the run has no second evaluation of theta_0 or its two evaluations do
    not hold the same prompts in the same order.
    """
    run_dir = Path(run_dir)
    cfg = json.loads((run_dir / "manifest.json").read_text())["config"]
    folder = generation_dir(run_dir, "base", 0)
    rows = load_texts(folder)
    if not (folder / "responses_reseed.jsonl").is_file():
        raise ValueError(f"{folder}: no second evaluation of theta_0 (responses_reseed.jsonl): the noise needs it")
    again = load_texts(folder, "responses_reseed.jsonl")
    if [(r["prompt_id"], r["response"]) for r in rows] != [(r["prompt_id"], r["response"]) for r in again]:
        raise ValueError(f"{folder}: the two evaluations of theta_0 do not hold the same prompts in the same order")
    metrics = rr.recorded_metrics(folder)
    return Theta0(label=label, texts=[r["text"] for r in rows], buckets=np.array([r["bucket"] for r in rows]),
                  prompt_ids=np.array([r["prompt_id"] for r in rows]),
                  embeddings=load_embeddings(folder).astype(np.float64),
                  reseed_texts=[r["text"] for r in again],
                  reseed_embeddings=np.load(folder / "embeddings_reseed.npy").astype(np.float64),
                  m=int(cfg["m"]), seed=int(cfg["seed"]), eps=float(cfg["eps"]), stored_U=float(metrics["U"]))


#: How the dose-response names a committed run whose folder name does not say what its theta_0 is.
COMMITTED_LABELS = {"controls": "runs/controls (θ₀ of the book's small model)"}


def theta0_runs(names, profile: str, *, recursion_dir=None) -> tuple[list[tuple[str, Path]], list[str]]:
    """``([(label, verified run folder)], notes)`` for the dose-response.

    A name is a committed run under ``runs/`` (verified by :func:`run_report.committed_run`) or
    ``"recursion"``: the recursion chapter's run of ``profile`` when it is finished
    (:func:`run_report.require_run`), else the committed ``runs/controls``, whose theta_0 is the same
    small model (made by ``make run-controls`` from the recursion chapter's cache). Absent runs are
    left out with a note.
    """
    runs, notes = [], []
    for name in names:
        if name == "recursion":
            try:
                runs.append((f"recursion chapter ({profile})", rr.require_run(rr.run_dir_for(profile, recursion_dir))))
                continue
            except FileNotFoundError:
                controls = rr.committed_run("controls")
                if controls is None:
                    notes.append("the recursion chapter's run is not finished and runs/controls is absent")
                    continue
                notes.append("the recursion chapter's run is not finished here, so its theta_0 is read from "
                             "runs/controls (the same small model, committed)")
                runs.append((COMMITTED_LABELS["controls"], controls))
                continue
        path = rr.committed_run(name)
        if path is None:
            notes.append(f"no committed run runs/{name}")
        else:
            runs.append((COMMITTED_LABELS.get(path.name, f"runs/{path.name}"), path))
    return runs, notes


def signal_values(texts, embeddings: np.ndarray, observed: np.ndarray, eps: float) -> dict[str, float]:
    """Track II ``U``, Track I ``Gamma_KF`` (Algorithm 1 on ``observed``), distinct-2, Vendi and RankMe
    of one set of ``N`` responses and their ``(N, d)`` embeddings."""
    r = algorithm1(embeddings, observed, eps)
    return {"U": r.U, "gamma_kf": r.gamma_kf, "distinct_2": distinct_n(texts, 2),
            "vendi": vendi_score(embeddings), "rankme": rankme(embeddings)}


def replacement_sources(rng: np.random.Generator, q: float, buckets: np.ndarray, *, mode: str) -> np.ndarray:
    """For each of the ``N`` response slots, the response it holds after replacing a fraction ``q``.

    Returns an ``(N,)`` index array: the identity except at ``round(q N)`` slots drawn without
    replacement, which hold a copy of a kept response (``mode="copies"``) or of a response to one
    bucket's prompts, the bucket drawn at random (``mode="one-bucket"``).

    Raises ``ValueError`` for ``q`` outside ``[0, 1)`` or an unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not 0 <= q < 1:
        raise ValueError(f"the replaced fraction q must lie in [0, 1), got {q!r}")
    N = len(buckets)
    k = int(round(q * N))
    source = np.arange(N)
    if k == 0:
        return source
    slots = rng.choice(N, size=k, replace=False)
    if mode == "copies":
        pool = np.setdiff1d(source, slots)
    else:
        pool = np.flatnonzero(buckets == rng.choice(np.unique(buckets)))
    source[slots] = rng.choice(pool, size=k, replace=True)
    return source


def _check_grid(qs, n_draws: int) -> list[float]:
    qs = [float(q) for q in qs]
    if not qs or any(not 0 <= q < 1 for q in qs) or qs != sorted(set(qs)):
        raise ValueError(f"qs must be increasing fractions in [0, 1), got {qs!r}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise ValueError(f"n_draws must be an integer >= 2 (a band needs two draws), got {n_draws!r}")
    return qs


def dose_response(theta0: Theta0, qs, *, modes=MODES, n_draws: int = 10, seed: int = 0) -> list[dict]:
    """One row per (mode, ``q``, draw): each signal's change from theta_0's unchanged responses.

    The unchanged responses' ``U`` must equal the run's stored generation-0 ``U`` (to 1e-6 nats),
    else ``ValueError``: the observed index set would not be the run's. Rows hold the run's label,
    ``mode``, ``q``, ``draw``, ``replaced`` (the count) and the changes named by :data:`SIGNALS`.
    """
    qs = _check_grid(qs, n_draws)
    observed = theta0.observed
    base = signal_values(theta0.texts, theta0.embeddings, observed, theta0.eps)
    if abs(base["U"] - theta0.stored_U) > 1e-6 * max(1.0, abs(theta0.stored_U)):
        raise ValueError(f"{theta0.label}: theta_0's U recomputed ({base['U']!r}) differs from the stored "
                         f"{theta0.stored_U!r}: not the run's observed index set")
    rows = []
    for mi, mode in enumerate(modes):
        for qi, q in enumerate(qs):
            rng = np.random.default_rng([int(seed), mi, qi])
            for draw in range(n_draws if q > 0 else 1):
                src = replacement_sources(rng, q, theta0.buckets, mode=mode)
                vals = base if q == 0 else signal_values([theta0.texts[i] for i in src], theta0.embeddings[src],
                                                         observed, theta0.eps)
                rows.append({"run": theta0.label, "mode": mode, "q": q, "draw": draw,
                             "replaced": int(np.sum(src != np.arange(src.size))),
                             **{key: vals[raw] - base[raw] for key, raw in _RAW.items()}})
    return rows


def evaluation_noise(theta0: Theta0, *, n_splits: int = 20, seed: int = 0) -> dict[str, float]:
    """Each signal's evaluation noise: the sd of its difference between the two halves of random
    splits of theta_0's two evaluations, every prompt's ``2r`` responses split ``r`` / ``r`` (module docstring).

    Returns ``{signal: sd}`` keyed as :data:`SIGNALS` (the differences of ``U`` and ``Gamma_KF`` for the drifts).
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    N = theta0.N
    texts = theta0.texts + theta0.reseed_texts
    emb = np.vstack([theta0.embeddings, theta0.reseed_embeddings])
    slots = {}
    for i, p in enumerate(theta0.prompt_ids):
        slots.setdefault(p, []).append(i)
    observed = theta0.observed
    rng = np.random.default_rng([int(seed), 99])
    diffs = {key: [] for key in SIGNALS}
    for _ in range(n_splits):
        a, b = np.empty(N, dtype=np.int64), np.empty(N, dtype=np.int64)
        for idx in slots.values():
            both = rng.permutation(np.concatenate([idx, np.asarray(idx) + N]))
            a[idx], b[idx] = both[: len(idx)], both[len(idx):]
        va = signal_values([texts[i] for i in a], emb[a], observed, theta0.eps)
        vb = signal_values([texts[i] for i in b], emb[b], observed, theta0.eps)
        for key, raw in _RAW.items():
            diffs[key].append(va[raw] - vb[raw])
    return {key: float(np.std(v, ddof=1)) for key, v in diffs.items()}


def dose_summary(rows: list[dict], noise: dict[str, dict[str, float]]) -> list[dict]:
    """Per (run, mode, ``q``): each signal's mean change, its sd over draws, and the mean change in
    units of the run's evaluation noise (``noise[run][signal]``)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["run"], r["mode"], r["q"]), []).append(r)
    out = []
    for (run, mode, q), rs in groups.items():
        row = {"run": run, "mode": mode, "q": q, "draws": len(rs), "replaced": rs[0]["replaced"]}
        for key in SIGNALS:
            v = np.array([r[key] for r in rs])
            row[key] = float(v.mean())
            row[f"{key}_sd"] = float(v.std(ddof=1)) if v.size > 1 else 0.0
            row[f"{key}_noise"] = noise[run][key]
            row[f"{key}_in_noise"] = float(v.mean() / noise[run][key]) if noise[run][key] > 0 else None
        out.append(row)
    return out


def detection(summary: list[dict], *, k: float = 2.0) -> list[dict]:
    """Per (run, mode, signal): the smallest ``q`` whose mean change exceeds ``k`` times the signal's
    evaluation noise (``None`` if no ``q`` of the grid does), and the change at the largest ``q``."""
    out = []
    keys = sorted({(r["run"], r["mode"]) for r in summary}, key=lambda t: (t[0], MODES.index(t[1])))
    for run, mode in keys:
        rs = sorted((r for r in summary if r["run"] == run and r["mode"] == mode), key=lambda r: r["q"])
        for key in SIGNALS:
            seen = [r["q"] for r in rs if r["q"] > 0 and abs(r[key]) > k * r[f"{key}_noise"]]
            out.append({"run": run, "mode": mode, "signal": key, "name": SHORT_NAMES[key],
                        "noise_sd": rs[0][f"{key}_noise"], "smallest_q_detected": seen[0] if seen else None,
                        "q_max": rs[-1]["q"],
                        "change_at_q_max": rs[-1][key], "change_at_q_max_in_noise": rs[-1][f"{key}_in_noise"]})
    return out
