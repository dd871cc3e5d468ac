"""Is it collapse? Every signal of every setting against its noise, and which signals separate the
collapse settings from the controls (issue 14; the chapter ``notebooks/collapse.ipynb``).

The collapse settings are the paper's S1 and S2 at alpha = 0 (each generation trains on the newest
synthetic pool only). The controls train on data that the literature finds prevents collapse: real
contexts only (``repeat-real``, alpha = 1, the same contexts every generation; ``new-real``, new
ones), every real context plus every synthetic pool so far (``accumulate``, Gerstgrasser et al.
2024), that union subsampled to the constant budget
(``accumulate-subsample``), and S2 with a real fraction alpha > 0 (``S2-a<alpha>``).

A signal *separates* a collapse setting from a control from generation g on when, at g and at every
later generation, the two differ in the collapse direction by more than twice the standard
deviation of their difference. The standard deviation of one checkpoint's value is

* the index-set noise of the drift (``noise_U``, ``noise_gamma_kf``: re-drawn observed index sets)
  for Track II and Track I,
* the standard error over held-out contexts for the held-out NLL,
* a bootstrap over the responses (or their embeddings) of theta_0 for distinct-2, HHI, Vendi and
  RankMe, the same for every checkpoint of the run;

and the difference of two checkpoints adds the two variances. The bands are therefore sampling
noise of the measurement at fixed responses and contexts; the evaluation's own noise (theta_0
sampled again with other seeds) is shown beside them by the chapter (the run's ``noise`` table).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..recursion.config import setting_spec, with_defaults
from .book import and_join
from .run_report import bootstrap_sds, load_table, rows_by_setting, with_spectral_peers

COLLAPSE = ("S1", "S2")

#: ``(column, label with unit, direction of collapse, where its noise comes from)``; direction -1:
#: the signal falls when diversity is lost, +1: it rises.
SIGNALS = (
    ("drift_U", r"Track II drift $\Delta U$ (nats)", -1, "noise_U"),
    ("drift_gamma_kf", r"Track I drift $\Delta\Gamma_{KF}$", -1, "noise_gamma_kf"),
    ("distinct_2", "distinct-2", -1, "bootstrap"),
    ("hhi", "hashed 4-gram HHI", +1, "bootstrap"),
    ("vendi", "Vendi score", -1, "bootstrap"),
    ("rankme", "RankMe", -1, "bootstrap"),
    ("heldout_nll", "held-out NLL (nats/token)", +1, "heldout_nll_se"),
)
SIGNAL_LABELS = {key: label for key, label, _, _ in SIGNALS}


def is_control(setting: str) -> bool:
    """A setting that trains on more than the newest synthetic pool (not S1 or S2 at alpha = 0)."""
    spec = setting_spec(setting)
    return setting not in COLLAPSE and (spec["data"] != "replace" or (spec["alpha"] or 0.0) > 0.0)


def describe_setting(setting: str, alpha: float = 0.0) -> dict:
    """How ``setting`` trains, in words: where it starts, its real fraction and its data."""
    spec = setting_spec(setting)
    a = alpha if spec["alpha"] is None else spec["alpha"]
    data = {"replace": f"{a:g} real + {1 - a:g} newest synthetic pool (constant budget)" if a < 1 else
            "the same real contexts every generation (constant budget)",
            "new-real": "new real contexts every generation (unused TECH windows, constant budget)",
            "accumulate": "every real context + every synthetic pool so far (grows)",
            "accumulate-subsample": "every real context + every pool so far, subsampled to the constant budget"}
    return {"setting": setting, "role": "control" if is_control(setting) else "collapse",
            "starts from": "theta_0" if spec["start"] == "theta0" else "previous generation",
            "trains on": data[spec["data"]]}


def signal_series(run_dir: str | Path, n_draws: int = 30, seed: int = 0, source: str = "") -> list[dict]:
    """Every signal of every setting and generation of a run, with the standard deviation of one
    checkpoint's value (see the module docstring). One row per ``(setting, generation, signal)``:
    ``value``, ``change`` (from generation 0), ``sd``, and ``source`` (the run's name).

    Vendi and RankMe come from the run's table when the engine measured them; older runs get them
    from the stored embeddings. ``n_draws=0`` skips the bootstrap: the bootstrapped signals' ``sd``
    is then ``nan`` (for readers that need only the values, such as run-to-run intervals).
    """
    by_setting = rows_by_setting(load_table(run_dir, "generations"))
    boot = bootstrap_sds(run_dir, n_draws=n_draws, seed=seed) if n_draws > 0 else {}
    out = []
    for setting, rows in by_setting.items():
        for r in rows:
            r = with_spectral_peers(run_dir, setting, r)
            for key, _, _, noise in SIGNALS:
                sd = boot.get(key, math.nan) if noise == "bootstrap" else float(r.get(noise) or 0.0)
                out.append({"source": source, "setting": setting, "generation": int(r["generation"]), "signal": key,
                            "value": float(r[key]), "sd": sd})
    base = {(r["setting"], r["signal"]): r["value"] for r in out if r["generation"] == 0}
    for r in out:
        r["change"] = r["value"] - base[(r["setting"], r["signal"])]
    return out


def merge_series(*series: Sequence[dict]) -> list[dict]:
    """Rows of several runs in one list; a setting already present (from an earlier run) is skipped."""
    seen: set[str] = set()
    merged: list[dict] = []
    for rows in series:
        new = {r["setting"] for r in rows} - seen
        merged += [r for r in rows if r["setting"] in new]
        seen |= new
    return merged


def comparable(config_a: Mapping, config_b: Mapping) -> list[str]:
    """The parameters (other than the settings, the machine's threads and the worker processes) on
    which two runs differ, a key absent from an older manifest counting as its default: runs are
    compared setting against setting only when this list is empty."""
    a, b = with_defaults(config_a), with_defaults(config_b)  # keys older manifests lack
    skip = {"settings", "threads", "workers"}
    keys = (set(a) | set(b)) - skip
    return sorted(k for k in keys if a.get(k) != b.get(k))


def _pivot(series: Iterable[Mapping]) -> dict:
    return {(r["setting"], r["signal"], r["generation"]): r for r in series}


def first_exits(series: Sequence[Mapping]) -> list[dict]:
    """Per signal and setting, the first generation whose change from generation 0, in the collapse
    direction, exceeds twice the standard deviation of that change (``None``: never)."""
    at = _pivot(series)
    settings = list(dict.fromkeys(r["setting"] for r in series))
    rows = []
    for key, label, direction, _ in SIGNALS:
        row = {"signal": label}
        for s in settings:
            gens = sorted(g for (s2, k, g) in at if s2 == s and k == key and g > 0)
            first = None
            for g in gens:
                r, r0 = at[(s, key, g)], at[(s, key, 0)]
                sd = r["sd"] if key.startswith("drift_") else math.hypot(r["sd"], r0["sd"])
                if direction * r["change"] > 2 * sd:
                    first = g
                    break
            row[s] = first
        rows.append(row)
    return rows


def separation(series: Sequence[Mapping], collapse: str, control: str, key: str) -> dict:
    """How signal ``key`` separates ``collapse`` from ``control``: at every common generation the
    difference (collapse - control) and its 2-sd band, and the generation from which the difference
    stays beyond the band in the collapse direction (``None``: not by the last generation)."""
    at = _pivot(series)
    direction = next(d for k, _, d, _ in SIGNALS if k == key)
    gens = sorted(g for (s, k, g) in at if s == collapse and k == key and (control, key, g) in at and g > 0)
    if not gens:
        raise ValueError(f"settings {collapse!r} and {control!r} share no generation of {key!r}")
    diffs, bands, beyond = [], [], []
    for g in gens:
        a, b = at[(collapse, key, g)], at[(control, key, g)]
        diffs.append(a["value"] - b["value"])
        bands.append(2 * math.hypot(a["sd"], b["sd"]))
        beyond.append(direction * diffs[-1] > bands[-1])
    since = None
    for i in range(len(gens) - 1, -1, -1):
        if not beyond[i]:
            break
        since = gens[i]
    return {"generations": gens, "difference": diffs, "band": bands, "separated_from": since,
            "final_difference": diffs[-1], "final_band": bands[-1]}


def verdict_table(series: Sequence[Mapping], collapse: Sequence[str] = COLLAPSE,
                  controls: Sequence[str] | None = None) -> list[dict]:
    """One row per signal: for each collapse setting against each control, the generation from which
    the signal separates them beyond noise, and a verdict in words.

    ``controls`` defaults to every control setting in ``series``. The verdict says *separates* when
    every collapse setting present separates from every control by the last generation, *partly*
    when some pairs do, and *does not separate* otherwise; the row also gives each control's own
    change at the last generation as a fraction of S2's (how much of the movement ordinary
    fine-tuning makes too).
    """
    present = list(dict.fromkeys(r["setting"] for r in series))
    collapse = [s for s in collapse if s in present]
    controls = [s for s in (controls if controls is not None else present) if s in present and is_control(s)]
    if not collapse or not controls:
        raise ValueError(f"the verdict needs a collapse setting ({', '.join(COLLAPSE)}) and a control; got {present}")
    rows = []
    for key, label, direction, _ in SIGNALS:
        row: dict = {"signal": label}
        pairs = 0
        for s in collapse:
            for c in controls:
                sep = separation(series, s, c, key)
                row[f"{s} vs {c}"] = sep["separated_from"]
                pairs += sep["separated_from"] is not None
        shares = {c: v for c, v in control_shares(series, key, collapse[-1]).items() if c in controls}
        row[f"control change / {collapse[-1]} change"] = ", ".join(f"{c}: {v:.2f}" for c, v in shares.items())
        total = len(collapse) * len(controls)
        row["verdict"] = ("separates" if pairs == total else "partly" if pairs else "does not separate")
        rows.append(row)
    return rows


def last_generations(series: Iterable[Mapping], key: str | None = None, *, by: str = "setting") -> dict[str, int]:
    """Each setting's (or each ``by``'s: ``"replicate"``) last generation in ``series`` (of signal
    ``key`` when given), in order of appearance: a run may carry one setting further than another
    (seed 0 of the study), and one replicate further than the others."""
    last: dict[str, int] = {}
    for r in series:
        if key is None or r["signal"] == key:
            last[r[by]] = max(last.get(r[by], 0), r["generation"])
    return last


def control_shares(series: Sequence[Mapping], key: str, reference: str = "S2") -> dict[str, float]:
    """Each control's change of ``key`` from generation 0, as a fraction of ``reference``'s change,
    at the last generation the two both have (1.0: the control moves the signal as much as the
    collapse setting)."""
    at, last = _pivot(series), last_generations(series, key)
    shares = {}
    for s in (s for s in last if is_control(s) and reference in last):
        g = min(last[s], last[reference])
        moved = at[(reference, key, g)]["change"] if (reference, key, g) in at else 0
        if (s, key, g) in at and moved != 0:
            shares[s] = at[(s, key, g)]["change"] / moved
    return shares


def share_in_words(shares: Mapping[str, float], reference: str = "S2") -> str:
    """How much of the collapse setting's movement the controls make too, said plainly (a negative
    share: the control moves the signal the other way)."""
    if not shares:
        return "no control shares a generation with it"
    most = max(shares, key=shares.get)
    top = shares[most]
    listed = ", ".join(f"{s} {v:.2f}".replace(" -", " −") for s, v in shares.items())
    if top < 0:
        return (f"every control moves it the other way from {reference} "
                f"(control / {reference} change at the last generation both have: {listed})")
    return (f"the control that moves it most ({most}) moves it {top:.2f} times as much as {reference} does "
            f"(control / {reference} change at the last generation both have: {listed})")


def collapse_summary(verdicts: Sequence[Mapping], track2_shares: Mapping[str, float]) -> str:
    """The chapter's finding in one sentence (glued into the introduction): Track II's verdict among
    the :func:`verdict_table` rows ``verdicts`` against all the controls, how many signals separate,
    and how much the control that moves Track II most moves it, as a multiple of S2's change
    (``track2_shares``: :func:`control_shares` of ``drift_U``)."""
    track2 = next(v for v in verdicts if v["signal"] == SIGNAL_LABELS["drift_U"])
    n_sep = sum(v["verdict"] == "separates" for v in verdicts)
    most = max(track2_shares, key=track2_shares.get)
    return (f"Track II {track2['verdict']} S1 and S2 from all {len(track2_shares)} controls ({n_sep} of "
            f"{len(verdicts)} signals do); the control that moves it most ({most}) "
            f"moves it {track2_shares[most]:.2f} times as much as S2.")


def long_to_wide(series: Sequence[Mapping]) -> list[dict]:
    """The series as one row per ``(setting, generation)`` with ``<signal>``, ``<signal>_sd`` and
    ``<signal>_change`` columns, in the series' order (for plotting with
    :func:`sigma_lib.report.plots.plot_settings` and for the CSV)."""
    wide: dict = {}
    for r in series:
        row = wide.setdefault((r["setting"], r["generation"]), {"setting": r["setting"], "generation": r["generation"],
                                                                 "source": r["source"]})
        row[r["signal"]] = r["value"]
        row[f"{r['signal']}_sd"] = r["sd"]
        row[f"{r['signal']}_change"] = r["change"]
    return list(wide.values())


def summary_sentence(verdicts: Sequence[Mapping]) -> str:
    """One plain sentence: which signals separate collapse from every control, and which do not."""
    sep = [v["signal"] for v in verdicts if v["verdict"] == "separates"]
    part = [v["signal"] for v in verdicts if v["verdict"] == "partly"]
    none = [v["signal"] for v in verdicts if v["verdict"] == "does not separate"]
    parts = []
    parts.append(("Beyond noise, " + and_join(sep) + (" separate" if len(sep) > 1 else " separates") +
                  " the collapse settings from every control") if sep else
                 "No signal separates the collapse settings from every control beyond noise")
    if part:
        parts.append(and_join(part) + " separate" + ("" if len(part) > 1 else "s") + " only some pairs")
    if none:
        parts.append(and_join(none) + (" do" if len(none) > 1 else " does") + " not separate them")
    return "; ".join(parts) + "."
