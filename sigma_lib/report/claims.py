"""Every claim of the paper, its printed value, and a verdict judged against noise (the results page).

Two families:

* :func:`theory_claims`: Theorems 1-3, the sample-size rule, Sigma-UB's two tracks and the drift,
  judged on the theorem chapter's simulations (the CSV tables it writes);
* :func:`run_claims`: the recursion experiment (Table 1, Table 11, Figures 1-3, App. C.6), judged
  on one run's generations table. Each track is judged against its own noise: Track II's drift
  against twice its index-set noise in nats, Track I's (dimensionless) against twice its own; the
  surface proxies against a bootstrap over the responses of generation 0; a rank correlation
  against its exact permutation distribution.

A verdict is ``holds``, ``fails``, ``partly``, ``within noise`` (the effect is smaller than twice its
noise, so the run cannot tell) or ``not run`` (the run lacks the setting). Claims, values and the
paper's numbers are Markdown (MyST roles allowed), for the book's results page.
"""
from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Mapping

import numpy as np

from .run_report import bootstrap_sds, read_csv, rows_by_setting

HOLDS, FAILS, PARTLY, WITHIN, NOT_RUN = "holds", "fails", "partly", "within noise", "not run"
UNTESTABLE = "untestable"  # the run cannot tell, whatever its noise (no common scale, too coarse a resolution)


#: each claim in a few words, for sentences that list verdicts
SHORT_NAMES = {
    "T1": "Theorem 1's bound", "T2": "the overestimation limit (3.8)", "T3": "the scaling law of Theorem 2",
    "T4": "Theorem 3's 95 % interval", "T5": "the sample-size rule (3.14)", "T6": "Track I's envelope",
    "T7": "Track II's convergence", "T8": "the cancelling of Track II's constant in the drift",
    "E1": "S1's Track II fall", "E2": "S1's Track I fall", "E3": "S1's tracks of equal size",
    "E4": "S2 falling further than S1", "E5": "S2's tenfold contraction", "E6": "S2's track separation",
    "E7": "S1's distinct-2 fall", "E8": "S2's distinct-2 fall", "E9": "S1's HHI rise", "E10": "S2's HHI rise",
    "E11": "S2 more concentrated than S1", "E12": "Track II leading the surface proxies",
    "E13": "the rank correlation of Track II with HHI", "E14": "the Creative bucket contracting most"}

_VERBS = {HOLDS: ("holds", "hold"), PARTLY: ("holds partly", "hold partly"), FAILS: ("fails", "fail"),
          WITHIN: ("is within noise", "are within noise"), NOT_RUN: ("was not run", "were not run"),
          UNTESTABLE: ("is untestable", "are untestable")}


def verdict_sentence(rows) -> str:
    """``of the n claims, 3 hold (...); 2 fail (...)``: the verdicts of ``rows`` counted, each claim
    named by :data:`SHORT_NAMES`."""
    parts = []
    for verdict, (one, many) in _VERBS.items():
        ids = [r["id"] for r in rows if r["verdict"] == verdict]
        if ids:
            parts.append(f"{len(ids)} {one if len(ids) == 1 else many} ({', '.join(SHORT_NAMES[i] for i in ids)})")
    return f"of the {len(rows)} claims, " + "; ".join(parts)


def num(x, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits (:func:`sigma_lib.report.book.fmt_sig`)."""
    from .book import fmt_sig

    return fmt_sig(x, digits)


def num_pm(x, noise, digits: int = 3) -> str:
    """``x ± 2 noise`` (the two-standard-deviation band)."""
    from .book import fmt_value_noise

    return fmt_value_noise(x, noise, digits)


def judge_interval(low: float, high: float, *, sign: int) -> str:
    """The one rule of every claim that an effect has a sign: ``sign = -1`` claims it is negative.

    ``holds`` when the interval ``[low, high]`` lies wholly on the claimed side of zero, ``fails``
    when wholly on the other, ``within noise`` when it holds zero. One run's interval is the value
    +- twice its noise; replicates' is the t-interval of the mean over runs.
    """
    if sign not in (-1, 1):
        raise ValueError(f"sign must be -1 or +1, got {sign!r}")
    lo, hi = (low, high) if sign > 0 else (-high, -low)
    return HOLDS if lo > 0 else FAILS if hi < 0 else WITHIN


def both(*verdicts: str) -> str:
    """Two effects claimed together: ``holds`` when each holds, ``fails`` when either fails,
    ``within noise`` else."""
    return HOLDS if all(v == HOLDS for v in verdicts) else FAILS if FAILS in verdicts else WITHIN


def _band(value: float, noise: float, *, sign: int) -> str:
    """:func:`judge_interval` of ``value +- noise``."""
    return judge_interval(value - noise, value + noise, sign=sign)


def _claim(cid, claim, paper, where, value, verdict):
    return {"id": cid, "claim": claim, "paper": paper, "where": where, "value": value, "verdict": verdict}


# -- the theory, on the theorem chapter's simulations ---------------------------------------------
THEORY_TABLES = ("theorem1_violations", "theorem1_overestimation", "theorem2_scaling", "theorem3_coverage",
                 "theorem3_sample_size_rule", "sigma_ub_track1_envelope", "sigma_ub_track2_convergence", "drift_bias")


def ensure_theory_tables(profile: str, theorems_dir: str | Path) -> Path:
    """The simulation tables :func:`theory_claims` reads, computed into ``theorems_dir`` if any is missing.

    The theorem chapter writes them (``notebooks/theorems.ipynb``); when it has not run yet, the same
    studies are run here with the profile's parameters and seeds, so the numbers are the chapter's.
    """
    from ..common.io import write_csv
    from ..maths import drift_bias
    from ..maths import simulation as sim

    d = Path(theorems_dir)
    if all((d / f"{name}.csv").is_file() for name in THEORY_TABLES):
        return d
    P = sim.theorem_parameters(profile)
    tables = {
        "theorem1_violations": lambda: sim.theorem1_violations(d=P["theorem1_d"], reps=P["theorem1_reps"],
                                                               seed=P["seed"]),
        "theorem1_overestimation": lambda: sim.overestimation_vs_anisotropy(P["anisotropies"], d=P["theorem1_d"],
                                                                            reps=P["ratio_reps"], seed=P["seed"]),
        "theorem2_scaling": lambda: sim.scaling_law(P["scaling_Ns"], d=P["scaling_d"], reps=P["scaling_reps"],
                                                    seed=P["seed"]),
        "theorem3_coverage": lambda: sim.estimator_study(P["coverage_grid"], reps=P["coverage_reps"],
                                                         seed=P["seed"])[0],
        "theorem3_sample_size_rule": lambda: sim.sample_size_rule_study(P["half_widths"], d=P["sample_size_d"],
                                                                        reps=P["sample_size_reps"], seed=P["seed"]),
        "sigma_ub_track1_envelope": lambda: sim.track1_envelope_study(P["anisotropies"], d=P["track_d"],
                                                                      reps=P["ratio_reps"], eps=P["eps"],
                                                                      seed=P["seed"]),
        "sigma_ub_track2_convergence": lambda: sim.track2_convergence(P["track_ms"], d=P["track_d"],
                                                                      reps=P["track_reps"], eps=P["eps"],
                                                                      reference_n=P["track_reference_n"],
                                                                      seed=P["seed"]),
        "drift_bias": lambda: drift_bias.drift_bias_study(**drift_bias.drift_bias_parameters(
            profile if profile in drift_bias.DRIFT_BIAS_PROFILES else "default")),
    }
    for name in THEORY_TABLES:
        if not (d / f"{name}.csv").is_file():
            write_csv(tables[name](), d / f"{name}.csv")
    return d


def theory_claims(theorems_dir: str | Path) -> list[dict]:
    """The paper's theoretical claims judged on the simulation tables in ``theorems_dir``.

    Raises ``FileNotFoundError`` naming the table if the theorem chapter has not written it.
    """
    d = Path(theorems_dir)

    def table(name):
        path = d / f"{name}.csv"
        if not path.is_file():
            raise FileNotFoundError(f"no table {path}: execute notebooks/theorems.ipynb first "
                                    f"(with output_dir {d})")
        return read_csv(path)

    return [judge(table) for judge in THEORY_JUDGES]


def _theory_bound(table) -> dict:
    """T1: Theorem 1's bound, on every simulated stress case."""
    t1 = table("theorem1_violations")
    n = sum(r["reps"] for r in t1)
    bad = sum(r["lower_violations"] + r["upper_violations"] for r in t1)
    return _claim("T1", "Theorem 1: $\\det G_m \\le \\det G \\le \\prod_i(\\lambda_i(G_m)+\\rho)$ for every "
                        "matrix {eq}`eq-3-4`.", "holds always (a deterministic bound)",
                  "{ref}`sec-theorem1`", f"{bad} violations in {n} draws ({len(t1)} stress cases)",
                  HOLDS if bad == 0 else FAILS)


def _theory_overestimation(table) -> dict:
    """T2: the overestimation ratio against its limit (3.8), at the largest anisotropy."""
    ratio = table("theorem1_overestimation")
    r = max(ratio, key=lambda x: x["kappa"])
    se = r["measured_log_R_sd"] / np.sqrt(r["reps"])
    diff = r["measured_log_R"] - r["predicted_log_R"]
    ok = abs(diff) <= max(2 * se, 0.05 * abs(r["predicted_log_R"]))
    return _claim("T2", "Theorem 1's overestimation ratio tends to its limit {eq}`eq-3-8`; criterion: "
                        "within 2 standard errors or 5 % at the largest anisotropy.",
                  "$\\log R \\to \\sum_i \\log(r + (1-r)\\mu_1/\\mu_i)$", "{numref}`fig-theorem1-ratio`",
                  f"$\\log R$ = {num_pm(r['measured_log_R'], se, 4)} against the limit {num(r['predicted_log_R'], 4)} "
                  f"($\\kappa$ = {num(r['kappa'])})", HOLDS if ok else FAILS)


def _theory_scaling(table) -> dict:
    """T3: Theorem 2's size-invariance, against the exact Gaussian law at the largest N."""
    scal = table("theorem2_scaling")
    r = max(scal, key=lambda x: x["N"])
    se = r["sd"] / np.sqrt(r["reps"])
    ok = abs(r["mean"] - r["exact_expectation"]) <= 2 * se + 1e-12
    return _claim("T3", "Theorem 2: $\\log\\det G - d\\log N$ is size-invariant, tending to $\\log\\det\\Sigma$ "
                        "{eq}`eq-3-5`, {eq}`eq-3-6`; criterion: the simulated mean matches the exact Gaussian "
                        "law within 2 standard errors.", "a constant for a healthy model",
                  "{numref}`fig-theorem2`",
                  f"at $N$ = {r['N']}: {num_pm(r['mean'] - r['logdet_sigma'], se)} nats from $\\log\\det\\Sigma$ "
                  f"(exact law: {num(r['exact_expectation'] - r['logdet_sigma'])})", HOLDS if ok else FAILS)


def _theory_coverage(table) -> dict:
    """T4: Theorem 3's 95 % coverage, at the largest d simulated."""
    cov = table("theorem3_coverage")
    r = min((x for x in cov if x["d"] == max(y["d"] for y in cov)), key=lambda x: x["coverage_paper"])
    sd = np.sqrt(0.95 * 0.05 / r["reps"])
    verdict = FAILS if r["coverage_paper"] < 0.95 - 2 * sd else HOLDS
    return _claim("T4", "Theorem 3: the interval {eq}`eq-3-11` around the plug-in {eq}`eq-3-13` "
                        "covers $\\log\\det G$ 95 % of the time {eq}`eq-3-10`; "
                        "judged at the largest $d$ simulated.",
                  "95 %", "{numref}`fig-theorem3-coverage`",
                  f"{num(100 * r['coverage_paper'], 3)} % at $d$ = {r['d']}, $m$ = {r['m']}, $N$ = {r['N']} "
                  f"(binomial 2 sd: {num(200 * sd, 2)} %); bias-corrected: {num(100 * r['coverage_corrected'], 3)} %",
                  verdict)


def _theory_sample_size_rule(table) -> dict:
    """T5: the sample-size rule (3.14): achieved against target half-width."""
    rule = table("theorem3_sample_size_rule")
    worst = max(rule, key=lambda x: x["achieved_paper"] / x["target_half_width"])
    k = worst["achieved_paper"] / worst["target_half_width"]
    kc = max(x["achieved_corrected"] / x["target_half_width"] for x in rule)
    return _claim("T5", "The sample-size rule {eq}`eq-3-14`: $m \\ge (1.96\\,\\sigma_\\xi/\\varepsilon)^2$ "
                        "achieves a 95 % half-width $\\varepsilon$; criterion: the achieved 95th percentile "
                        "of the error within 1.5 times the target (no finer noise estimate).",
                  "half-width $\\varepsilon$", "{numref}`fig-sample-size`",
                  f"the paper's plug-in misses by up to {num(k, 3)}× (target {num(worst['target_half_width'])}, "
                  f"$m$ = {worst['m_chosen']}); bias-corrected: up to {num(kc, 3)}×",
                  HOLDS if k <= 1.5 else FAILS)


def _theory_track1_envelope(table) -> dict:
    """T6: Track I's envelope (3.16)-(3.17), on every draw."""
    env = table("sigma_ub_track1_envelope")
    n = sum(r["reps"] for r in env)
    bad = sum(r["violations"] for r in env)
    return _claim("T6", "Track I's envelope $L_\\varepsilon(G) \\le \\log\\det(G_m + (B+\\varepsilon)I)$ "
                        "holds for unit-norm columns {eq}`eq-3-16`, {eq}`eq-3-17`.", "holds always",
                  "{ref}`sec-sigma-ub`", f"{bad} violations in {n} draws", HOLDS if bad == 0 else FAILS)


def _theory_track2_convergence(table) -> dict:
    """T7: Track II's convergence to log det Sigma as m grows."""
    conv = sorted(table("sigma_ub_track2_convergence"), key=lambda x: x["m"])
    g0, g1 = conv[0]["gap"], conv[-1]["gap"]
    se = conv[-1]["U_sd"] / np.sqrt(conv[-1]["reps"])
    ok = abs(g1) < abs(g0) / 10 or abs(g1) <= 2 * se
    return _claim("T7", "Track II's $U$ {eq}`eq-3-20` tends to $\\log\\det\\Sigma$ as $m$ grows; criterion: "
                        "the gap shrinks tenfold over the simulated range, or is within 2 standard errors.",
                  "$U \\to \\log\\det\\Sigma$", "{numref}`fig-track2`",
                  f"gap {num(g0)} nats at $m$ = {conv[0]['m']}, {num_pm(g1, se)} at $m$ = {conv[-1]['m']}",
                  HOLDS if ok else FAILS)


def _theory_drift_constant(table) -> dict:
    """T8: Track II's constant cancelling in the drift (3.21)."""
    bias = table("drift_bias")
    parts, verdicts = [], []
    for kind, label in (("gaussian", "Gaussian"), ("unit_gaussian", "unit-norm")):
        mine = [x for x in bias if x["kind"] == kind]
        if not mine:
            continue
        worst = max(mine, key=lambda x: abs(x["drift_bias"]) / max(x["drift_bias_se"], 1e-12))
        cancels = all(abs(x["drift_bias"]) <= 2 * x["drift_bias_se"] + 0.005 * abs(x["bias_U"]) for x in mine)
        kept = max(abs(x["drift_bias"]) / abs(x["bias_U"]) for x in mine)
        verdicts.append(cancels)
        parts.append(f"{label}: bias of $U$ {num(worst['bias_U'])} nats, of $\\Delta U$ "
                     f"{num_pm(worst['drift_bias'], worst['drift_bias_se'])} (at most {num(100 * kept, 2)} % remains)")
    return _claim("T8", "The unknown constant of Track II cancels in the drift $\\Delta U$ {eq}`eq-3-21`; "
                        "criterion: the drift's bias within 2 standard errors (plus 0.5 % of $U$'s bias, the "
                        "ridge's share).", "cancels", "{ref}`sec-drift-bias`", "; ".join(parts),
                  HOLDS if all(verdicts) else PARTLY if any(verdicts) else FAILS)


#: one judge per theoretical claim, T1..T8 in order; each reads the tables it needs through ``table(name)``
THEORY_JUDGES = (_theory_bound, _theory_overestimation, _theory_scaling, _theory_coverage, _theory_sample_size_rule,
                 _theory_track1_envelope, _theory_track2_convergence, _theory_drift_constant)


# -- the recursion experiment, on one run ----------------------------------------------------------
def spearman_permutation(x, y) -> tuple[float, float]:
    """Spearman's rho of ``x`` and ``y`` and its one-sided permutation p-value for ``rho <= observed``
    (exact for up to 8 points, else 20,000 random permutations, seeded)."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)

    def rho(a, b):
        a, b = a - a.mean(), b - b.mean()
        denom = np.sqrt((a * a).sum() * (b * b).sum())
        return float((a * b).sum() / denom) if denom > 0 else 0.0

    obs = rho(rx, ry)
    if len(rx) <= 8:
        null = [rho(rx, ry[list(p)]) for p in itertools.permutations(range(len(ry)))]
    else:
        rng = np.random.default_rng(0)
        null = [rho(rx, rng.permutation(ry)) for _ in range(20_000)]
    return obs, float(np.mean(np.asarray(null) <= obs + 1e-12))


#: per claim of the recursion, the figure or table of the book's run that shows it (MyST roles)
RUN_CLAIM_FIGURES = {
    "E1": "{numref}`fig-figure1`, {ref}`sec-table1`", "E2": "{numref}`fig-figure2`, {ref}`sec-table1`",
    "E3": "{ref}`sec-table1`", "E4": "{numref}`fig-figure1`, {ref}`sec-table1`", "E5": "{ref}`sec-table1`",
    "E6": "{numref}`fig-figure2`, {ref}`sec-table1`", "E7": "{ref}`sec-table11`", "E8": "{ref}`sec-table11`",
    "E9": "{ref}`sec-table11`", "E10": "{ref}`sec-table11`", "E11": "{ref}`sec-table11`",
    "E12": "{numref}`fig-figure3`, {numref}`fig-beyond`", "E13": "{ref}`sec-table11`", "E14": "{numref}`fig-c6`"}


@functools.lru_cache(maxsize=1)
def paper_values() -> dict[str, str]:
    """Per claim id (E1-E13), the paper's printed value as Markdown, formatted from its Tables 1
    and 11 as ``data/paper_reported.json`` stores them (the one place the paper's numbers live)."""
    from .run_report import paper_reported

    rep = paper_reported()
    t1 = {r["setting"]: r for r in rep["table1"]}
    t11 = {r["setting"]: r for r in rep["table11"]}
    s1, s2 = t1["S1"], t1["S2"]
    out = {"E1": f"$\\Delta U = {s1['drift_U_final']:.3f}$ nats at $g = {s1['g_max']}$",
           "E2": f"$\\Delta\\Gamma_{{KF}} = {s1['drift_gamma_final']:.3f}$; agreement: "
                 f"{'yes' if s1['track_agreement'] else 'no'}",
           "E3": f"ratio {s1['drift_gamma_final'] / s1['drift_U_final']:.2f}",
           "E4": f"${s2['drift_U_final']:.3f}$ against ${s1['drift_U_final']:.3f}$",
           "E5": f"ratio {s2['drift_U_final'] / s1['drift_U_final']:.1f}",
           "E5 slopes": f"slopes ${s2['slope_U']:.3f}$ against ${s1['slope_U']:.3f}$",
           "E6": f"$\\Delta\\Gamma_{{KF}} = {s2['drift_gamma_final']:.3f}$ (slope ${s2['slope_gamma']:+.3f}$); "
                 f"$\\Delta U = {s2['drift_U_final']:.3f}$",
           "E13": "one of " + ", ".join(f"${t11['S2'][f'spearman_{i}']:.3f}$" for i in (1, 2, 3))
                  + " (column headers lost in the paper's text)"}
    for i, s in enumerate(("S1", "S2")):
        r = t11[s]
        out[f"E{7 + i}"] = f"{r['distinct_2_g0']:.3f} → {r['distinct_2_gmax']:.3f}"
        out[f"E{9 + i}"] = f"{r['hhi_g0']:.6f} → {r['hhi_gmax']:.6f}"
    return out


class _OneRun:
    """What the claims of one run read: its generations by setting, each setting's last row, the
    bootstrap sds of the surface proxies, its bucket table; ``add`` collects the judged claims."""

    def __init__(self, gen_rows, bands, bucket_rows, where):
        self.by = rows_by_setting(gen_rows)
        self.last = {s: r[-1] for s, r in self.by.items()}
        self.bands, self.bucket_rows, self.where, self.rows = bands, bucket_rows, dict(where or {}), []

    def add(self, cid, claim, paper, value, verdict):
        self.rows.append(_claim(cid, claim, paper, self.where.get(cid, ""), value, verdict))


def run_claims(gen_rows: list[dict], run_path: str | Path | None = None, *, bucket_rows: list[dict] | None = None,
               n_boot: int = 30, seed: int = 0, where: Mapping[str, str] | None = None) -> list[dict]:
    """The paper's claims about the recursion, E1-E14, each judged on one run (see the module docstring).

    ``gen_rows``: the run's generations table (stored or recomputed); ``run_path``: its folder, for
    the bootstrap bands of the surface proxies (skipped when ``None``); ``bucket_rows``: its App. C.6
    table with ``reseed_noise_U`` (:func:`sigma_lib.report.run_report.bucket_table`); ``where``: per claim
    id, a Markdown link to the figure or table that shows it (:data:`RUN_CLAIM_FIGURES` for the book's run).
    Claims with a sign are judged by :func:`judge_interval` on the value +- twice its noise.
    """
    bands = bootstrap_sds(run_path, ("distinct_2", "hhi"), n_boot, seed) if run_path is not None else {}
    run = _OneRun(gen_rows, bands, bucket_rows, where)
    for judge in RUN_JUDGES:
        judge(run)
    return sorted(run.rows, key=lambda r: int(r["id"][1:]))


def _drift_claims_s1(run: _OneRun) -> None:
    """E1-E3: S1's final drifts of both tracks (Table 1, Figures 1-2)."""
    last, add = run.last, run.add
    # Table 1 and Figures 1-2
    if "S1" in last:
        r = last["S1"]
        add("E1", "S1 (restart from $\\theta_0$, {eq}`eq-4-1`): Track II falls, its final drift $\\Delta U$ "
                  "{eq}`eq-3-21` below zero by more than twice its noise.",
            paper_values()["E1"],
            f"$\\Delta U$ = {num_pm(r['drift_U'], r['noise_U'])} nats at $g$ = {r['generation']}",
            _band(r["drift_U"], 2 * r["noise_U"], sign=-1))
        add("E2", "S1: Track I falls too, so the tracks agree (each final drift more than twice its own noise "
                  "below zero).",
            paper_values()["E2"],
            f"$\\Delta\\Gamma_{{KF}}$ = {num_pm(r['drift_gamma_kf'], r['noise_gamma_kf'])}",
            both(_band(r["drift_U"], 2 * r["noise_U"], sign=-1),
                 _band(r["drift_gamma_kf"], 2 * r["noise_gamma_kf"], sign=-1)))
        ratio = r["drift_gamma_kf"] / r["drift_U"] if r["drift_U"] else float("nan")
        add("E3", "S1: Track I's drift is about as large as Track II's (the paper's ratio "
                  "$\\Delta\\Gamma_{KF}/\\Delta U$).", paper_values()["E3"],
            f"ratio {num(ratio)}: Track I's drift is dimensionless and Track II's is in nats ({{ref}}`sec-table1`), "
            "so 'as large' has no common scale to be judged on",
            UNTESTABLE)
    else:
        for cid in ("E1", "E2", "E3"):
            add(cid, "S1 claims", "", "", NOT_RUN)


def _drift_claims_s2(run: _OneRun) -> None:
    """E4-E6: S2 against S1, and S2's track separation (Table 1, Figures 1-2)."""
    last, add = run.last, run.add
    if {"S1", "S2"} <= set(last):
        a, b = last["S1"], last["S2"]
        noise = np.hypot(a["noise_U"], b["noise_U"])
        diff = b["drift_U"] - a["drift_U"]
        add("E4", "S2 (weights carried forward, {eq}`eq-4-2`): Track II falls further than S1's, beyond the noise "
                  "of the difference.", paper_values()["E4"],
            f"$\\Delta U_{{S2}} - \\Delta U_{{S1}}$ = {num_pm(diff, noise)} nats",
            _band(diff, 2 * noise, sign=-1))
        s1_falls = a["drift_U"] < -2 * a["noise_U"]
        ratio = b["drift_U"] / a["drift_U"] if a["drift_U"] else float("nan")
        add("E5", "S2: Track II contracts by more than an order of magnitude more than S1 (ratio of final drifts at "
                  f"least 10; {paper_values()['E5 slopes']}).", paper_values()["E5"],
            f"ratio {num(ratio)}" + ("" if s1_falls else " (S1's drift within noise)"),
            (HOLDS if ratio >= 10 else FAILS) if s1_falls and b["drift_U"] < 0 else WITHIN)
    else:
        add("E4", "S2 against S1", "", "", NOT_RUN)
        add("E5", "S2 against S1", "", "", NOT_RUN)

    if "S2" in last:
        b = last["S2"]
        near = abs(b["drift_gamma_kf"]) <= 2 * b["noise_gamma_kf"]
        u_falls = b["drift_U"] < -2 * b["noise_U"]
        add("E6", "S2: Track I stays near zero (within twice its own noise, dimensionless) while Track II falls "
                  "(beyond twice its noise, nats): the tracks separate.",
            paper_values()["E6"],
            f"$\\Delta\\Gamma_{{KF}}$ = {num_pm(b['drift_gamma_kf'], b['noise_gamma_kf'])} "
            f"({num(abs(b['drift_gamma_kf']) / b['noise_gamma_kf'] if b['noise_gamma_kf'] else float('inf'), 3)} "
            "noise sd); "
            f"$\\Delta U$ = {num_pm(b['drift_U'], b['noise_U'])}",
            HOLDS if near and u_falls else FAILS if not near else WITHIN)
    else:
        add("E6", "S2 claims", "", "", NOT_RUN)


def _surface_claims(run: _OneRun) -> None:
    """E7-E11: distinct-2 and HHI from generation 0 to g_max (Table 11)."""
    by, last, bands, add = run.by, run.last, run.bands, run.add
    # Table 11: surface proxies
    paper11 = {s: (paper_values()[f"E{7 + i}"], paper_values()[f"E{9 + i}"]) for i, s in enumerate(("S1", "S2"))}
    for i, s in enumerate(("S1", "S2")):
        if s not in by or not bands:
            add(f"E{7 + i}", f"{s}: distinct-2 falls", paper11[s][0], "", NOT_RUN)
            add(f"E{9 + i}", f"{s}: HHI rises", paper11[s][1], "", NOT_RUN)
            continue
        r0, r1 = by[s][0], by[s][-1]
        band = 2 * bands["distinct_2"]
        ch = r1["distinct_2"] - r0["distinct_2"]
        add(f"E{7 + i}", f"{s}: distinct-2 falls from $g = 0$ to $g_\\max$ (beyond twice its bootstrap noise).",
            paper11[s][0], f"{num(r0['distinct_2'], 4)} → {num(r1['distinct_2'], 4)} (band ±{num(band, 2)})",
            _band(ch, band, sign=-1))
        band = 2 * bands["hhi"]
        ch = r1["hhi"] - r0["hhi"]
        add(f"E{9 + i}", f"{s}: the hashed 4-gram HHI rises from $g = 0$ to $g_\\max$ (beyond twice its bootstrap "
                         "noise).", paper11[s][1],
            f"{num(r0['hhi'], 3)} → {num(r1['hhi'], 3)} (band ±{num(band, 2)})",
            _band(ch, band, sign=+1))

    if {"S1", "S2"} <= set(by) and bands:
        diff = last["S2"]["hhi"] - last["S1"]["hhi"]
        band = 2 * np.sqrt(2) * bands["hhi"]
        add("E11", "S2 ends more concentrated at the surface than S1 (HHI at $g_\\max$, beyond noise).",
            "0.097262 against 0.013385",
            f"{num(last['S2']['hhi'], 3)} against {num(last['S1']['hhi'], 3)} (band of the difference ±{num(band, 2)})",
            _band(diff, band, sign=+1))
    else:
        add("E11", "S2 against S1 (HHI)", "", "", NOT_RUN)


def _lead_claims(run: _OneRun) -> None:
    """E12-E13: Track II against the surface proxies in S2 (Figure 3, Table 11)."""
    from ..maths.signals import first_exit

    by, bands, add = run.by, run.bands, run.add
    if "S2" in by and bands:
        rs = by["S2"]
        gens = [x["generation"] for x in rs]
        noise_U = [x["noise_U"] for x in rs if x["generation"] > 0]
        ex_u = first_exit(gens, [x["drift_U"] for x in rs], 2 * float(np.mean(noise_U)), -1)
        ex_d = first_exit(gens, [x["distinct_2"] for x in rs], 2 * bands["distinct_2"], -1)
        ex_h = first_exit(gens, [x["hhi"] for x in rs], 2 * bands["hhi"], +1)

        def show(g):
            return "never" if g is None else f"$g$ = {g}"

        others = [g for g in (ex_d, ex_h) if g is not None]
        first = min(gens[1:]) if len(gens) > 1 else None
        if ex_u is None:
            verdict = WITHIN
        elif any(g < ex_u for g in others):
            verdict = FAILS
        elif ex_u == first and first in others:
            verdict = UNTESTABLE  # they leave together at the first generation measured: one generation is too coarse
        else:
            verdict = HOLDS
        add("E12", "S2: Track II leaves its noise band before the surface proxies do (Figure 3 of the paper: an "
                   "earlier indicator than surface repetition).",
            "Track II falls early, HHI rises later (not tabulated)",
            f"first generation outside the band: Track II {show(ex_u)}, distinct-2 {show(ex_d)}, HHI {show(ex_h)}"
            + (" (at a resolution of one generation, a lead shorter than a generation cannot be seen)"
               if verdict == UNTESTABLE else ""),
            verdict)
        rho, p = spearman_permutation([x["drift_U"] for x in rs], [x["hhi"] for x in rs])
        add("E13", "S2: surface concentration co-varies strongly with Track II under a rank correlation (Table 11): "
                   "Spearman $\\rho(\\Delta U, \\mathrm{HHI})$ negative, one-sided permutation $p < 0.05$.",
            paper_values()["E13"],
            f"$\\rho$ = {num(rho)}, $p$ = {num(p, 2)} over {len(rs)} generations (both series trend with the "
            "generation, so the correlation shows they co-vary, not that one tracks the other beyond that trend)",
            HOLDS if rho < 0 and p < 0.05 else FAILS if rho >= 0 else WITHIN)
    else:
        add("E12", "S2: Track II leads the surface proxies", "", "", NOT_RUN)
        add("E13", "S2: rank correlation with HHI", "", "", NOT_RUN)


def creative_split(bucket_rows) -> tuple[dict, str | None, list[float]] | None:
    """S1's App. C.6 rows at its last generation, by bucket; the name of the Creative bucket
    (``None`` without one); the other buckets' Track II drifts (nats). ``None`` without S1 rows."""
    s1 = [r for r in bucket_rows or [] if r["setting"] == "S1"]
    if not s1:
        return None
    gmax = max(r["generation"] for r in s1)
    at = {r["bucket"]: r for r in s1 if r["generation"] == gmax}
    cre = next((b for b in at if b.lower().startswith("creative")), None)
    return at, cre, [at[b]["drift_U"] for b in at if b != cre]


def _bucket_claim(run: _OneRun) -> None:
    """E14: the Creative bucket against the others (App. C.6)."""
    add = run.add
    found = creative_split(run.bucket_rows)
    if found is not None:
        at, cre, rest = found
        most = min(at, key=lambda b: at[b]["drift_U"])
        c = at.get(cre, {})
        noise = c.get("reseed_noise_U")  # sd of one bucket's drift under evaluation noise (pooled)
        # the paper: Creative contracts more than the aggregate; judged as Creative against the mean of
        # the other buckets, beyond twice the sd of that difference (var of a drift + var of a mean of k)
        margin = c.get("drift_U", float("nan")) - float(np.mean(rest)) if rest and c else float("nan")
        band = 2 * noise * np.sqrt(1 + 1 / len(rest)) if noise is not None and rest else None
        if cre is None:
            verdict = NOT_RUN
        elif band is None:  # no re-evaluation of theta_0: no evaluation noise to judge the margin by
            verdict = UNTESTABLE
        else:
            verdict = _band(margin, band, sign=-1)
        add("E14", "S1: the Creative bucket contracts more than the other buckets (Track II drift per prompt "
                   "bucket, App. C.6), beyond evaluation noise.",
            "Creative (not tabulated)",
            f"Creative {num(c.get('drift_U'))} nats against the other buckets' mean "
            f"{num(float(np.mean(rest)) if rest else None)}"
            + (f" (difference {num(margin)}, band ±{num(band, 2)})" if band is not None else
               " (no evaluation noise in this run to judge the difference by)")
            + f"; lowest drift: {most}",
            verdict)
    else:
        add("E14", "S1: the Creative bucket contracts most", "Creative", "", NOT_RUN)


#: the claim groups of :func:`run_claims`, in the paper's order
RUN_JUDGES = (_drift_claims_s1, _drift_claims_s2, _surface_claims, _lead_claims, _bucket_claim)


def run_label(manifest_or_config: Mapping) -> str:
    """A short description of a run from its manifest (or config): model, settings, generations."""
    cfg = manifest_or_config.get("config", manifest_or_config)
    return f"{cfg.get('base_model')}, {', '.join(cfg.get('settings', []))}, {cfg.get('generations')} generations"


def committed_runs(root: str | Path | None = None) -> list[Path]:
    """The committed runs under ``runs/`` (or ``root``): folders holding a ``checksums.json``."""
    from .run_report import COMMITTED_ROOT

    root = Path(root) if root is not None else COMMITTED_ROOT
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "checksums.json").is_file())


def manifest(run_path: str | Path) -> dict:
    return json.loads((Path(run_path) / "manifest.json").read_text())
