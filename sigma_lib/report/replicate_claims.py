"""The paper's claims about the recursion judged against run-to-run noise (issue 24).

:func:`sigma_lib.report.claims.run_claims` judges each claim on one run, against that run's own
bands (re-drawn index sets, a bootstrap over theta_0's responses). Here the same claims are judged
on several replicate runs (the same protocol, other seeds): each run gives the claim's statistic
(a final drift, a change of distinct-2, a paired difference S2 - S1...), and the verdict reads the
95 % t-interval of their mean over runs (:func:`sigma_lib.report.replicates.t_interval`) with the
same rule as one run's band (:func:`sigma_lib.report.claims.judge_interval`): *holds* when the
interval lies wholly on the claimed side, *fails* when wholly on the other, *within noise* else.

Input: rows of :func:`sigma_lib.report.replicates.load_replicates` (one per replicate, setting,
generation and signal, with ``change`` from generation 0); a claim about generation ``g_max``
reads the last generation that every replicate of the setting has.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Mapping, Sequence

import numpy as np

from . import claims
from .claims import FAILS, HOLDS, UNTESTABLE, WITHIN, both, judge_interval
from .replicates import t_interval


def _pivot(series: Sequence[Mapping]) -> dict:
    """``{(setting, signal): {replicate: {generation: change}}}``."""
    out: dict = defaultdict(lambda: defaultdict(dict))
    for r in series:
        out[(r["setting"], r["signal"])][r["replicate"]][r["generation"]] = r["change"]
    return out


def last_common_generation(series: Sequence[Mapping], setting: str) -> int | None:
    """The last generation that every replicate of ``setting`` reached (``None``: no replicate has it)."""
    from .controls import last_generations

    last = last_generations((r for r in series if r["setting"] == setting), by="replicate")
    return min(last.values(), default=None)


class _Runs:
    """Per-replicate statistics of one series, the helpers the claims below read."""

    def __init__(self, series: Sequence[Mapping], level: float):
        self.at, self.level = _pivot(series), level
        self.settings = {r["setting"] for r in series}
        self.gmax = {s: last_common_generation(series, s) for s in self.settings}

    def change(self, setting: str, signal: str, g: int | None = None) -> dict:
        """``{replicate: change from g0 at g}`` (``g`` defaults to the setting's last common generation)."""
        g = self.gmax[setting] if g is None else g
        return {k: v[g] for k, v in self.at[(setting, signal)].items() if g in v}

    def paired(self, signal: str, a: str = "S2", b: str = "S1") -> dict:
        """``{replicate: change of a - change of b}`` at the last generation both settings share."""
        g = min(self.gmax[a], self.gmax[b])
        x, y = self.change(a, signal, g), self.change(b, signal, g)
        return {k: x[k] - y[k] for k in x.keys() & y.keys()}

    def interval(self, values: Mapping) -> dict:
        t = t_interval(list(values.values()), level=self.level)
        return {**t, "low": t["mean"] - t["half_width"], "high": t["mean"] + t["half_width"]}


def describe(t: Mapping, digits: int = 3) -> str:
    """``mean [low, high]`` of a t-interval, with its count of runs."""
    if math.isnan(t["half_width"]):
        return f"{claims.num(t['mean'], digits)} (one run: no interval)"
    return f"{claims.num(t['mean'], digits)} [{claims.num(t['low'], digits)}, {claims.num(t['high'], digits)}]"


def _judge(t: Mapping, *, sign: int) -> str:
    return judge_interval(t["low"], t["high"], sign=sign)


def _row(cid: str, value: str, verdict: str, runs: int) -> dict:
    return {"id": cid, "value": value, "verdict": verdict, "runs": runs}


def _drift_claims(r: _Runs) -> list[dict]:
    """E1-E6: Table 1 and Figures 1-2 (final drifts of the two tracks)."""
    out = []
    if "S1" in r.settings:
        u, k = r.interval(r.change("S1", "drift_U")), r.interval(r.change("S1", "drift_gamma_kf"))
        out.append(_row("E1", f"$\\Delta U$ = {describe(u)} nats", _judge(u, sign=-1), u["n"]))
        out.append(_row("E2", f"$\\Delta\\Gamma_{{KF}}$ = {describe(k)}",
                        both(_judge(u, sign=-1), _judge(k, sign=-1)),
                        k["n"]))
        out.append(_row("E3", "no common scale (as for one run)", UNTESTABLE, u["n"]))
    if {"S1", "S2"} <= r.settings:
        d = r.interval(r.paired("drift_U"))
        out.append(_row("E4", f"paired $\\Delta U_{{S2}} - \\Delta U_{{S1}}$ = {describe(d)} nats",
                        _judge(d, sign=-1), d["n"]))
        s1, s2 = r.change("S1", "drift_U"), r.change("S2", "drift_U")
        ratios = {k: s2[k] / s1[k] for k in s1.keys() & s2.keys() if s1[k]}
        t, falls = r.interval(ratios), r.interval(s1)["high"] < 0 and r.interval(s2)["high"] < 0
        verdict = (HOLDS if t["low"] >= 10 else FAILS if t["high"] < 10 else WITHIN) if falls else WITHIN
        out.append(_row("E5", f"ratio {describe(t)}" + ("" if falls else " (a final drift within run-to-run noise)"),
                        verdict, t["n"]))
    if "S2" in r.settings:
        k, u = r.interval(r.change("S2", "drift_gamma_kf")), r.interval(r.change("S2", "drift_U"))
        near = k["low"] <= 0 <= k["high"]
        out.append(_row("E6", f"$\\Delta\\Gamma_{{KF}}$ = {describe(k)}; $\\Delta U$ = {describe(u)}",
                        HOLDS if near and u["high"] < 0 else FAILS if not near else WITHIN, k["n"]))
    return out


def _surface_claims(r: _Runs) -> list[dict]:
    """E7-E11: Table 11 (distinct-2 and HHI from generation 0 to g_max)."""
    out = []
    for i, s in enumerate(("S1", "S2")):
        if s not in r.settings:
            continue
        d, h = r.interval(r.change(s, "distinct_2")), r.interval(r.change(s, "hhi"))
        out.append(_row(f"E{7 + i}", f"change {describe(d, 2)}", _judge(d, sign=-1), d["n"]))
        out.append(_row(f"E{9 + i}", f"change {describe(h, 2)}", _judge(h, sign=+1), h["n"]))
    if {"S1", "S2"} <= r.settings:
        t = r.interval(r.paired("hhi"))
        out.append(_row("E11", f"paired HHI S2 − S1 {describe(t, 2)}", _judge(t, sign=+1),
                        t["n"]))
    return out


def _first_beyond(r: _Runs, signal: str, sign: int) -> int | None:
    """First generation >= 1 whose t-interval over runs of S2's change lies beyond zero in ``sign``."""
    for g in range(1, r.gmax["S2"] + 1):
        t = r.interval(r.change("S2", signal, g))
        if (t["high"] < 0) if sign < 0 else (t["low"] > 0):
            return g
    return None


def _lead_claims(r: _Runs) -> list[dict]:
    """E12-E13: Track II against the surface proxies in S2."""
    if "S2" not in r.settings:
        return []
    ex = {k: _first_beyond(r, k, s) for k, s in (("drift_U", -1), ("distinct_2", -1), ("hhi", +1))}
    n = r.interval(r.change("S2", "drift_U"))["n"]
    others = [g for k, g in ex.items() if k != "drift_U" and g is not None]
    u = ex["drift_U"]
    verdict = (WITHIN if u is None else FAILS if any(g < u for g in others)
               else UNTESTABLE if u == 1 and 1 in others else HOLDS)
    show = {k: "never" if g is None else f"$g$ = {g}" for k, g in ex.items()}
    out = [_row("E12", f"first generation beyond the run-to-run band: Track II {show['drift_U']}, distinct-2 "
                       f"{show['distinct_2']}, HHI {show['hhi']}", verdict, n)]
    u_runs, h_runs = r.at[("S2", "drift_U")], r.at[("S2", "hhi")]
    rhos = {}
    for k in u_runs.keys() & h_runs.keys():
        gens = sorted(u_runs[k].keys() & h_runs[k].keys())
        if len(gens) >= 3:
            rhos[k] = claims.spearman_permutation([u_runs[k][g] for g in gens], [h_runs[k][g] for g in gens])[0]
    if rhos:
        t = r.interval(rhos)
        t["low"], t["high"] = max(t["low"], -1.0), min(t["high"], 1.0)  # a correlation's interval, clipped
        out.append(_row("E13", f"Spearman $\\rho$ {describe(t, 2)} (each run's $\\rho$ over its generations; both "
                               "series trend with the generation, so the correlation shows they co-vary, not that one "
                               "tracks the other beyond that trend)",
                        _judge(t, sign=-1), t["n"]))
    return out


def creative_margin(bucket_rows: Sequence[Mapping]) -> float | None:
    """S1 at its last generation: the Creative bucket's Track II drift minus the mean of the other
    buckets' (nats; negative: Creative contracts more), as :func:`sigma_lib.report.claims.run_claims`
    judges E14 on one run. ``None`` without S1 or a Creative bucket."""
    found = claims.creative_split(bucket_rows)
    if found is None or found[1] is None or not found[2]:
        return None
    at, cre, rest = found
    return at[cre]["drift_U"] - float(np.mean(rest))


def replicate_claims(series: Sequence[Mapping], *, buckets: Mapping[str, Sequence[Mapping]] | None = None,
                     level: float = 0.95) -> list[dict]:
    """Claims E1-E14 judged on the replicates in ``series`` (see the module docstring).

    ``buckets``: per replicate, its App. C.6 table (:func:`sigma_lib.report.run_report.bucket_table`),
    for E14. One row per claim the replicates can judge: ``id``, ``value`` (Markdown), ``verdict``,
    ``runs`` (the number of runs the interval rests on).
    """
    r = _Runs(series, level)
    out = _drift_claims(r) + _surface_claims(r) + _lead_claims(r)
    margins = {k: m for k, rows in (buckets or {}).items() if (m := creative_margin(rows)) is not None}
    if margins:
        t = r.interval(margins)
        out.append(_row("E14", f"Creative minus the other buckets' mean {describe(t)} nats",
                        _judge(t, sign=-1), t["n"]))
    return sorted(out, key=lambda c: int(c["id"][1:]))


def compare_verdicts(one_run: Sequence[Mapping], across: Sequence[Mapping]) -> list[dict]:
    """Per claim judged both ways: the one-run verdict (its own bands), the run-to-run verdict, and
    ``changed`` (``"yes"`` when they differ)."""
    alone = {c["id"]: c for c in one_run}
    return [{"id": a["id"], "claim": alone[a["id"]]["claim"] if a["id"] in alone else "",
             "one run": alone[a["id"]]["value"] if a["id"] in alone else "",
             "one-run verdict": alone[a["id"]]["verdict"] if a["id"] in alone else "",
             "runs": a["runs"], "across runs": a["value"], "run-to-run verdict": a["verdict"],
             "changed": "yes" if a["id"] in alone and alone[a["id"]]["verdict"] != a["verdict"] else ""}
            for a in across]


def changed_sentence(compared: Sequence[Mapping], *, reference: str, n_runs: int) -> str:
    """One sentence: how many verdicts change from one run's bands (``reference``) to the spread
    between ``n_runs`` runs, and which, each as ``name (one-run verdict → run-to-run verdict)``."""
    changed = [c for c in compared if c["changed"]]
    judged = [c for c in compared if c["one-run verdict"]]
    count = f"{len(changed)} of the {len(judged)}" if changed else f"none of the {len(judged)}"
    head = (f"Against the spread between {n_runs} runs, {count} verdicts that {reference} gives against its "
            "own bands " + ("changes" if len(changed) == 1 else "change"))
    if not changed:
        return head + "."
    return head + ": " + "; ".join(f"{claims.SHORT_NAMES[c['id']]} ({c['one-run verdict']} → "
                                   f"{c['run-to-run verdict']})" for c in changed) + "."


def controls_across_runs(series: Sequence[Mapping], *, one_run: Sequence[Mapping], collapse: str = "S2",
                         level: float = 0.95) -> list[dict]:
    """Does ``collapse`` separate from each control over runs? Per control and signal, at the last
    generation the runs with that control share: the mean over runs of (``collapse`` - control) of
    the change from generation 0, paired by run, its t-interval and whether it lies wholly on the
    collapse side; beside the verdict of one run against its own bands (``one_run``: the rows of
    :func:`sigma_lib.report.controls.verdict_table` for that run).

    A control present in one run only gets no interval (``runs`` 1): one run cannot give the spread
    between runs.
    """
    from .controls import SIGNAL_LABELS, is_control
    from .replicates import paired_differences

    alone = {v["signal"]: v for v in one_run}
    out = []
    for c in [s for s in dict.fromkeys(r["setting"] for r in series) if is_control(s)]:
        g = last_common_generation(series, c)
        pairs = [r for r in series if r["setting"] in (collapse, c)]
        for d in paired_differences(pairs, c, level=level):
            if d["setting"] != collapse or d["generation"] != g:
                continue
            label = SIGNAL_LABELS[d["signal"]]
            sep = alone.get(label, {}).get(f"{collapse} vs {c}", "absent")
            said = ("not in that run" if sep == "absent" else "does not separate" if sep is None
                    else f"separates from $g$ = {sep}")
            runs = ("one run: no interval" if d["replicates"] < 2 else
                    "separates" if d["beyond"] else "does not separate")
            changed = d["replicates"] >= 2 and sep != "absent" and (sep is not None) != d["beyond"]
            out.append({"control": c, "signal": label, "generation": g, "one run": said, "runs": d["replicates"],
                        "difference": d["difference"], "low": d["low"], "high": d["high"], "over runs": runs,
                        "changed": "yes" if changed else ""})
    order = list(SIGNAL_LABELS.values())
    return sorted(out, key=lambda r: (r["control"] != out[0]["control"], r["control"], order.index(r["signal"])))


def controls_sentence(across: Sequence[Mapping], *, reference: str) -> str:
    """Per control, in one sentence each: on how many signals S2 separates from it over runs, beside
    ``reference`` alone, and which verdicts change."""
    parts = []
    for c in dict.fromkeys(r["control"] for r in across):
        rows = [r for r in across if r["control"] == c]
        n = rows[0]["runs"]
        alone = sum(r["one run"].startswith("separates") for r in rows)
        if n < 2:
            parts.append(f"Against `{c}`, only one run has the control, so there is no run-to-run band "
                         f"({reference} alone: {alone} of {len(rows)} signals separate).")
            continue
        over = sum(r["over runs"] == "separates" for r in rows)
        changed = [r["signal"] for r in rows if r["changed"]]
        parts.append(f"Against `{c}` over {n} runs, S2 separates on {over} of {len(rows)} signals "
                     f"({reference} alone: {alone})" + (f"; the verdict changes for {', '.join(changed)}." if changed
                                                        else "; no verdict changes."))
    return " ".join(parts) if parts else "No replicate run has a control."


def controls_view(across: Sequence[Mapping]) -> list[dict]:
    """:func:`controls_across_runs` for reading: one row per signal, one column per control that at
    least two runs have, each cell the run-to-run verdict with the mean difference and, where it
    differs, what one run alone says. Controls in one run only are left to the CSV and the sentence."""
    out: dict = {}
    for r in across:
        if r["runs"] < 2:
            continue
        row = out.setdefault(r["signal"], {"signal": r["signal"]})
        cell = f"**{r['over runs']}** ({claims.num(r['difference'])} [{claims.num(r['low'])}, {claims.num(r['high'])}])"
        row[r["control"]] = cell + (f"; one run alone: {r['one run']}" if r["changed"] else "")
    return list(out.values())


def track2_sentence(across: Sequence[Mapping]) -> str:
    """Track II in one clause: against which controls S2 separates over runs, of those two runs or
    more have (for the introduction)."""
    from .controls import SIGNAL_LABELS

    rows = [r for r in across if r["signal"] == SIGNAL_LABELS["drift_U"] and r["runs"] >= 2]
    if not rows:
        return "no control was trained in two runs or more, so Track II has no run-to-run verdict yet"
    sep = [f"`{r['control']}`" for r in rows if r["over runs"] == "separates"]
    runs = sorted({r["runs"] for r in rows})
    return (f"over {'/'.join(map(str, runs))} runs, Track II separates S2 from {len(sep)} of the {len(rows)} "
            "controls they trained"
            + (f" ({', '.join(sep)})" if sep else ""))
