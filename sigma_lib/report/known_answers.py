"""The tables of the chapter "Sigma against known answers": recursive Gaussian fitting beside its exact law.

:func:`recursion_table` runs the grid of :data:`sigma_lib.common.profiles.KNOWN_ANSWERS` (settings x
``(d, n)`` cells, ``n > d``) with :func:`sigma_lib.maths.gaussian_recursion.simulate_recursion` and
writes one row per (setting, ``d``, ``n``, generation ``1..G``): the simulated mean and standard
error over replicates of ``log det Sigma_g - log det Sigma_0``, ``tr Sigma_g / d`` and
``|mu_g - mu_0|^2`` beside their exact values (:mod:`sigma_lib.maths.gaussian_recursion_law`; empty
where there is no closed form), and, for the cells of ``sigma_cells``, Sigma-UB measured on the same
paths (:mod:`sigma_lib.maths.gaussian_recursion_sigma`).

Draws: a cell with ``n d`` above ``sufficient_above_nd`` draws each batch's sufficient statistics
from their exact law instead of the points (the ``draw`` column), so that ``d = 100, n = 1000`` fits
the budget; ``accumulate-subsample`` needs the points and runs only where ``n d <= subsample_max_nd``.

The chapter's findings in words (:func:`grid_sentence`, :func:`replace_sentence`, ...) read these
tables and judge agreement with :func:`agrees` and :func:`agreement_verdict`.
"""
from __future__ import annotations

import numbers
from typing import Mapping

import numpy as np

from ..common.params import require_int, resolve_profile
from ..common.profiles import KNOWN_ANSWERS
from ..maths import gaussian_recursion as gr
from ..maths import gaussian_recursion_law as law
from ..maths import gaussian_recursion_sigma as gs
from ..maths.tracks import DEFAULT_EPS
from .book import Col, fmt_sig

#: Columns of ``gaussian_recursion.csv`` filled only for the Sigma cells, in order.
SIGMA_COLUMNS = ("sigma_N", "sigma_m", "mean_true_drift_sigma", "mean_true_drift_second_moment",
                 "mean_drift_U", "sd_drift_U", "mean_band_U", "mean_drift_U_centred", "sd_drift_U_centred",
                 "mean_drift_U_unit", "sd_drift_U_unit", "mean_band_U_unit", "mean_drift_gamma_kf",
                 "sd_drift_gamma_kf", "coverage_band", "coverage_theorem3", "coverage_bias_corrected",
                 "coverage_centred", "coverage_theorem3_vs_sigma")


#: The quantities with an exact law, as :func:`agreement` names them, in Markdown math.
QUANTITY_TEX = {"log det Sigma_g - log det Sigma_0": r"$\log\det\Sigma_g - \log\det\Sigma_0$",
                "tr Sigma_g / d": r"$\mathrm{tr}\,\Sigma_g / d$", "|mu_g - mu_0|^2": r"$|\mu_g - \mu_0|^2$"}


#: The columns of the agreement table (:func:`agreement`, with ``quantity_tex`` added). No header holds a bare
#: ``|``: a pipe ends a cell of a Markdown table, so ``$|z|$`` in a header breaks the whole table.
AGREEMENT_COLUMNS = (
    Col("setting", kind="text"), Col("quantity_tex", "quantity", kind="md"),
    Col("points", "points (cell × generation)"),
    Col("within_2se", "share within 2 s.e. of the exact value", digits=3),
    Col("max_abs_z", r"largest $\lvert z\rvert$", digits=3), Col("worst_d", "at $d$"), Col("worst_n", "$n$"),
    Col("worst_generation", "$g$"),
    Col("sd_ratio_max_gap", r"largest $\lvert\hat{sd}/sd - 1\rvert$", digits=3))


def _int_list(params, key: str, minimum: int) -> list[int]:
    values = params[key]
    if not isinstance(values, (list, tuple)) or not values or any(
            isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum for v in values):
        raise ValueError(f"{key} must be a non-empty list of integers >= {minimum}, got {values!r}")
    return [int(v) for v in values]


def _cells(params, key: str) -> list[tuple[int, int]]:
    cells = params[key]
    if not isinstance(cells, (list, tuple)):
        raise ValueError(f"{key} must be a list of [d, n] pairs, got {cells!r}")
    out = []
    for cell in cells:
        if not isinstance(cell, (list, tuple)) or len(cell) != 2:
            raise ValueError(f"{key} entry {cell!r} must be a pair [d, n]")
        out.append(law.check_sizes(*cell))
    return out


def known_answers_parameters(profile: str = "default", **overrides) -> dict:
    """The chapter's parameters: the profile's (:data:`KNOWN_ANSWERS`) with non-``None`` overrides, checked.

    Raises ``ValueError`` naming the parameter: an unknown profile or name, fewer than 2 replicates,
    an unknown setting, a Sigma cell with ``n <= d`` or ``d >= sigma_m``, ``sigma_m >= sigma_N``,
    replaced fractions that do not start at 0 or leave ``[0, 1)``.
    """
    P = resolve_profile(KNOWN_ANSWERS, profile, overrides, "known_answers")
    require_int(P, "seed", 0)
    require_int(P, "replicates", 2)
    require_int(P, "generations", 1)
    for key in ("sufficient_above_nd", "subsample_max_nd", "sigma_N", "sigma_m", "sigma_draws", "naive_replicates",
                "dose_draws", "noise_splits"):
        require_int(P, key, 2 if key in ("sigma_draws", "dose_draws", "noise_splits") else 1)
    P["ds"], P["ns"] = _int_list(P, "ds", 1), _int_list(P, "ns", 2)
    for s in P["settings"]:
        gr.check_setting(s)
    P["sigma_cells"], P["naive_cells"] = _cells(P, "sigma_cells"), _cells(P, "naive_cells")
    for d, n in P["sigma_cells"]:
        if not d < P["sigma_m"] < P["sigma_N"]:
            raise ValueError(f"sigma cell (d={d}, n={n}) needs d < sigma_m < sigma_N, got sigma_m={P['sigma_m']}, "
                             f"sigma_N={P['sigma_N']}")
        if "replace" not in P["settings"]:
            raise ValueError("sigma_cells are measured on the replace setting: add 'replace' to settings")
    qs = [float(q) for q in P["dose_qs"]]
    if not qs or qs[0] != 0 or any(not 0 <= q < 1 for q in qs) or qs != sorted(set(qs)):
        raise ValueError(f"dose_qs must be increasing fractions in [0, 1) starting at 0, got {P['dose_qs']!r}")
    P["dose_qs"] = qs
    if isinstance(P["dose_runs"], str) or not all(isinstance(r, str) for r in P["dose_runs"]):
        raise ValueError(f"dose_runs must be a list of run names, got {P['dose_runs']!r}")
    return P


def grid_cells(P: Mapping) -> list[tuple[str, int, int, str]]:
    """``(setting, d, n, draw)`` of every simulated cell, in the table's order."""
    cells = []
    for setting in P["settings"]:
        for d in P["ds"]:
            for n in P["ns"]:
                if n <= d:
                    continue
                if setting == "accumulate-subsample":
                    if n * d <= P["subsample_max_nd"]:
                        cells.append((setting, d, n, "samples"))
                    continue
                cells.append((setting, d, n, "sufficient" if n * d > P["sufficient_above_nd"] else "samples"))
    return cells


def grid_sentence(P: Mapping, n_rows: int, table_link: str) -> str:
    """The simulated grid in words: how many cells (:func:`grid_cells`), the settings, ``d`` and ``n``
    (accumulate-subsample only where ``n d <= subsample_max_nd``), replicates and generations, the
    ``n_rows`` rows of the table behind ``table_link`` (a download role), and which cells draw
    sufficient statistics instead of their points."""
    cells = grid_cells(P)
    sufficient = [f"{s} ({d}, {n})" for s, d, n, draw in cells if draw == "sufficient"]
    return (f"{len(cells)} cells: settings {', '.join(P['settings'])}; $d$ in {P['ds']}, $n$ in {P['ns']} with $n > d$ "
            rf"(accumulate-subsample only where $nd \le {P['subsample_max_nd']}$: it keeps every point); "
            f"{P['replicates']} seeded replicates per cell, generations 1–{P['generations']}: {n_rows} rows in "
            f"{table_link}. "
            + (f"Cells that draw sufficient statistics ($nd > {P['sufficient_above_nd']}$; setting ($d$, $n$)): "
               f"{', '.join(sufficient)}." if sufficient else "Every cell draws its points."))


def _mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=1), x.std(axis=1, ddof=1) / np.sqrt(x.shape[1])


def cell_rows(paths: gr.RecursionPaths, sigma: gs.SigmaPaths | None = None) -> list[dict]:
    """The rows of one cell, generations ``1..G`` (module docstring); Sigma columns ``None`` without ``sigma``."""
    G = paths.generations
    gens = np.arange(1, G + 1)
    mean_ld, se_ld = _mean_se(paths.logdet)
    sd_ld = paths.logdet.std(axis=1, ddof=1)
    mean_tr, se_tr = _mean_se(paths.trace_ratio)
    mean_mu, se_mu = _mean_se(paths.mean_sq)
    ex_ld = ex_sd = ex_tr = ex_mu = None
    if paths.setting == "replace":
        ex_ld, ex_sd = law.replace_logdet_law(paths.d, paths.n, gens)
    if paths.setting != "accumulate-subsample":
        ex_tr, ex_mu = law.second_moment_law(paths.setting, paths.d, paths.n, gens)
    sig = {}
    if sigma is not None:
        cov = gs.drift_coverage(sigma)
        drifts = {k: sigma.drift(k)
                  for k in ("U", "U_centred", "U_unit", "gamma_kf", "logdet_sigma", "logdet_second_moment")}
        sig = {"sigma_N": sigma.N, "sigma_m": sigma.m}
        for name, key in (("mean_true_drift_sigma", "logdet_sigma"),
                          ("mean_true_drift_second_moment", "logdet_second_moment")):
            sig[name] = drifts[key].mean(axis=1)
        for key, col in (("U", "U"), ("U_centred", "U_centred"), ("U_unit", "U_unit"), ("gamma_kf", "gamma_kf")):
            sig[f"mean_drift_{col}"] = drifts[key].mean(axis=1)
            sig[f"sd_drift_{col}"] = drifts[key].std(axis=1, ddof=1)
        sig["mean_band_U"], sig["mean_band_U_unit"] = sigma.band_U.mean(axis=1), sigma.band_U_unit.mean(axis=1)
        for k, v in cov.items():
            sig[f"coverage_{k}"] = v

    def at(x, i):
        return None if x is None else float(x[i])

    rows = []
    for i, g in enumerate(gens):
        row = {"setting": paths.setting, "d": paths.d, "n": paths.n, "generation": int(g),
               "replicates": paths.replicates, "draw": paths.draw,
               "mean_logdet_change": float(mean_ld[g]), "se_logdet_change": float(se_ld[g]),
               "exact_logdet_change": at(ex_ld, i), "sd_logdet_change": float(sd_ld[g]),
               "exact_sd_logdet_change": at(ex_sd, i),
               "mean_trace_ratio": float(mean_tr[g]), "se_trace_ratio": float(se_tr[g]),
               "exact_trace_ratio": at(ex_tr, i),
               "mean_sq_mean_drift": float(mean_mu[g]), "se_sq_mean_drift": float(se_mu[g]),
               "exact_sq_mean_drift": at(ex_mu, i)}
        for col in SIGMA_COLUMNS:
            v = sig.get(col)
            row[col] = None if v is None else (int(v) if isinstance(v, int) else float(v[g]))
        rows.append(row)
    return rows


def recursion_table(P: Mapping, *, progress=None) -> tuple[list[dict], dict]:
    """Run the chapter's grid; returns ``(rows, sigma)`` with ``rows`` for ``gaussian_recursion.csv`` and
    ``sigma[(d, n)]`` the :class:`~sigma_lib.maths.gaussian_recursion_sigma.SigmaPaths` of each Sigma cell
    (on ``replace``). ``progress``, if given, is called with each cell's ``(setting, d, n, draw)``."""
    sigma_cells = set(P["sigma_cells"])
    rows, sigma = [], {}
    for setting, d, n, draw in grid_cells(P):
        if progress is not None:
            progress((setting, d, n, draw))
        keep = setting == "replace" and (d, n) in sigma_cells
        paths = gr.simulate_recursion(setting, d, n, generations=P["generations"], replicates=P["replicates"],
                                      seed=P["seed"], draw=draw, keep_states=keep)
        sp = None
        if keep:
            sp = gs.sigma_on_recursion(paths, N=P["sigma_N"], m=P["sigma_m"], eps=DEFAULT_EPS,
                                       n_draws=P["sigma_draws"], seed=P["seed"])
            sigma[(d, n)] = sp
        rows.extend(cell_rows(paths, sp))
    return rows, sigma


def _z(rows, mean: str, se: str, exact: str) -> np.ndarray:
    z = [(r[mean] - r[exact]) / r[se] for r in rows if r[exact] is not None and r[se] > 0]
    return np.array(z)


def agreement(rows: list[dict]) -> list[dict]:
    """Per setting and quantity with an exact law: how the simulation's means sit around it.

    Each row: the number of (cell, generation) points, the share within 2 standard errors of the
    exact value (0.95 expected), the largest ``|z|`` and where, and for ``replace`` the largest
    relative gap between the simulated and exact sd of the change of ``log det``.
    """
    quantities = (("log det Sigma_g - log det Sigma_0", "mean_logdet_change", "se_logdet_change",
                   "exact_logdet_change"),
                  ("tr Sigma_g / d", "mean_trace_ratio", "se_trace_ratio", "exact_trace_ratio"),
                  ("|mu_g - mu_0|^2", "mean_sq_mean_drift", "se_sq_mean_drift", "exact_sq_mean_drift"))
    out = []
    for setting in dict.fromkeys(r["setting"] for r in rows):
        rs = [r for r in rows if r["setting"] == setting]
        for label, mean, se, exact in quantities:
            have = [r for r in rs if r[exact] is not None and r[se] > 0]
            if not have:
                continue
            z = _z(have, mean, se, exact)
            worst = have[int(np.argmax(np.abs(z)))]
            row = {"setting": setting, "quantity": label, "points": len(have),
                   "within_2se": float(np.mean(np.abs(z) <= 2)), "max_abs_z": float(np.max(np.abs(z))),
                   "worst_d": worst["d"], "worst_n": worst["n"], "worst_generation": worst["generation"],
                   "sd_ratio_max_gap": None}
            if mean == "mean_logdet_change" and all(r["exact_sd_logdet_change"] for r in have):
                row["sd_ratio_max_gap"] = float(max(abs(r["sd_logdet_change"] / r["exact_sd_logdet_change"] - 1)
                                                    for r in have))
            out.append(row)
    return out


def recheck(P: Mapping, a: Mapping, *, factor: int = 20) -> dict | None:
    """Re-simulate the worst point of an :func:`agreement` row with ``factor`` times the replicates
    (seed ``seed + 1``), where that cell is cheap (``n d <= sufficient_above_nd``); ``None`` otherwise.

    Returns the new mean, standard error, ``z`` and the exact value at the worst generation, with the
    replicates' skewness and mean / median there (a heavy right tail makes a mean over few replicates,
    and its standard error, unreliable).
    """
    import scipy.stats

    d, n, g = a["worst_d"], a["worst_n"], a["worst_generation"]
    if n * d > P["sufficient_above_nd"]:
        return None
    key = {"log det Sigma_g - log det Sigma_0": "logdet", "tr Sigma_g / d": "trace_ratio",
           "|mu_g - mu_0|^2": "mean_sq"}[a["quantity"]]
    paths = gr.simulate_recursion(a["setting"], d, n, generations=g, replicates=factor * P["replicates"],
                                  seed=P["seed"] + 1)
    x = getattr(paths, key)[g]
    if key == "logdet":
        exact = float(law.replace_logdet_law(d, n, [g])[0][0])
    else:
        exact = float(law.second_moment_law(a["setting"], d, n, [g])[0 if key == "trace_ratio" else 1][0])
    se = float(x.std(ddof=1) / np.sqrt(x.size))
    return {"setting": a["setting"], "quantity": a["quantity"], "d": d, "n": n, "generation": g, "replicates": x.size,
            "mean": float(x.mean()), "se": se, "exact": exact, "z": (float(x.mean()) - exact) / se,
            "skewness": float(scipy.stats.skew(x)), "mean_over_median": float(x.mean() / np.median(x))}


def agrees(a: Mapping) -> bool:
    """The chapter's rule for an :func:`agreement` row to agree with its exact law: at least 90 % of
    its points within 2 standard errors and no ``|z|`` of 4.5 or more."""
    return a["within_2se"] >= 0.9 and a["max_abs_z"] < 4.5


def agreement_verdict(a: Mapping, rechecked: Mapping) -> str:
    """``"agrees"`` (:func:`agrees`), ``"rechecked"`` (agrees once its worst point is re-simulated:
    ``|z| <= 3`` in the :func:`recheck` row ``rechecked[(setting, quantity)]``) or ``"differs"``."""
    if agrees(a):
        return "agrees"
    c = rechecked.get((a["setting"], a["quantity"]))
    return "rechecked" if c is not None and abs(c["z"]) <= 3 else "differs"


def replace_sentence(rep: Mapping, rechecked: Mapping, *, replicates: int) -> str:
    """Replace's mean change of ``log det`` (the :func:`agreement` row ``rep``) against the straight line
    g x (eq-K-1): the share of points within 2 standard errors, the largest ``|z|`` and where, the
    verdict (:func:`agreement_verdict`: agreement, Monte-Carlo error once the worst point is
    re-simulated, or not the agreement the law predicts), and how closely the spread over the
    ``replicates`` replicates matches sqrt(g) x (eq-K-2), beside the relative error of an sd
    estimated from that many."""
    c = rechecked.get((rep["setting"], rep["quantity"]), {})
    verdict = {"agrees": "agreement, within the Monte-Carlo error.",
               "rechecked": "fewer than the 95 % agreement predicts, but simulated again with "
                            f"{c.get('replicates')} replicates the worst point "
                            f"is at $z$ = {fmt_sig(c.get('z'), 2)} (table below): Monte-Carlo error.",
               "differs": "**not** the agreement the law predicts."}[agreement_verdict(rep, rechecked)]
    return (f"**Replace.** Against the straight line $g$ × {{eq}}`eq-K-1`, "
            f"{fmt_sig(100 * rep['within_2se'], 3)} % of the {rep['points']} (cell, generation) points lie within 2 "
            f"standard errors (largest $|z|$ {fmt_sig(rep['max_abs_z'], 3)}, at $d = {rep['worst_d']}$, "
            f"$n = {rep['worst_n']}$, $g = {rep['worst_generation']}$): " + verdict
            + f" The spread over replicates matches $\\sqrt{{g}}$ × {{eq}}`eq-K-2` to within "
            f"{fmt_sig(100 * rep['sd_ratio_max_gap'], 2)} % (an sd estimated from {replicates} replicates has a "
            f"relative error of about {fmt_sig(100 / np.sqrt(2 * (replicates - 1)), 2)} %, and the largest of many "
            f"such errors is a few times that).")


def trace_sentence(tr: Mapping, rows: list[dict]) -> str:
    """The mean of ``tr Sigma_g / d`` under replace (the :func:`agreement` row ``tr``) against
    ``((n-1)/n)^g``: its share of points within 2 standard errors, the largest ``|z|``, the lowest ratio
    of the simulated to the exact mean at the last generation of ``rows`` (and where), whether it
    agrees, and why a product of ``g`` factors has a mean carried by rare replicates."""
    last = [r for r in final_generation(rows) if r["setting"] == "replace"]
    worst = min(last, key=lambda r: r["mean_trace_ratio"] / r["exact_trace_ratio"])
    return (f"The mean of $\\mathrm{{tr}}\\,\\Sigma_g/d$: {fmt_sig(100 * tr['within_2se'], 3)} % of its points "
            f"within 2 standard errors (largest $|z|$ {fmt_sig(tr['max_abs_z'], 3)}); at the last generation the "
            f"simulated mean is {fmt_sig(worst['mean_trace_ratio'] / worst['exact_trace_ratio'], 2)} of the exact "
            f"$((n-1)/n)^g$ at $d = {worst['d']}$, $n = {worst['n']}$. "
            + ("" if agrees(tr) else "**This does not agree**, and the law is not what fails: ")
            + "$\\mathrm{tr}\\,\\Sigma_g$ is a product of $g$ independent factors, close to log-normal with a log-sd "
            "growing like $\\sqrt{g}$, so its mean is carried by rare replicates that a few hundred replicates do not "
            "contain, and the standard error, estimated from the same replicates, misses them too. The $\\log\\det$, a "
            "sum rather than a product, has no such problem.")


def other_settings_sentence(agree: list[dict], settings, rechecked: Mapping) -> str | None:
    """The second moments of every setting but replace against (eq-K-3) and (eq-K-4), from the
    :func:`agreement` rows ``agree``: per setting and quantity, the share of points within 2 standard
    errors and the largest ``|z|``, with the verdict of :func:`agreement_verdict` where the first pass
    does not agree: the :func:`recheck` row ``rechecked[(setting, quantity)]`` (its replicates and ``z``)
    that clears the worst point as Monte-Carlo error, or the mark that it is not within it; ``None`` when
    no such row exists."""
    by = {(a["setting"], a["quantity"]): a for a in agree}
    parts = []
    for s in settings:
        if s == "replace":
            continue
        for q in ("tr Sigma_g / d", "|mu_g - mu_0|^2"):
            a = by.get((s, q))
            if a is None:
                continue
            text = (f"{s}, {QUANTITY_TEX[q]}: {fmt_sig(100 * a['within_2se'], 3)} % within 2 s.e., largest "
                    f"$|z|$ {fmt_sig(a['max_abs_z'], 3)}")
            verdict = agreement_verdict(a, rechecked)
            c = rechecked.get((s, q))
            if verdict != "agrees":
                text += f" (at $d = {a['worst_d']}$, $n = {a['worst_n']}$, $g = {a['worst_generation']}$)"
            if verdict == "rechecked":
                text += (f", flagged by this pass, but simulated again with {c['replicates']} replicates that point is "
                         f"at $z$ = {fmt_sig(c['z'], 3)}: Monte-Carlo error, and it agrees")
            elif verdict == "differs":
                text += ((f", and simulated again with {c['replicates']} replicates it is at $z$ = {fmt_sig(c['z'], 3)}"
                          if c is not None else "") + ": **not** within the Monte-Carlo error")
            parts.append(text)
    if not parts:
        return None
    return ("**The other settings.** Their second moments against {eq}`eq-K-3` and {eq}`eq-K-4`: "
            + "; ".join(parts) + ".")


def settled(rows: list[dict], setting: str) -> float:
    """The largest ``|mean change of log det|`` from generation ``G/2`` to ``G`` over the cells of a setting, nats."""
    G = max(r["generation"] for r in rows)
    half = max(1, G // 2)
    by = {(r["d"], r["n"], r["generation"]): r["mean_logdet_change"] for r in rows if r["setting"] == setting}
    return max(abs(by[(d, n, G)] - by[(d, n, half)]) for d, n, g in by if g == G)


def settled_sentence(rows: list[dict], P: Mapping) -> str:
    """How far the mean ``log det Sigma`` of any cell moves from generation ``G/2`` to ``G`` under each
    setting (:func:`settled`, nats), and whether every setting but replace has settled (moves less
    than a tenth of replace) while replace keeps falling."""
    G = P["generations"]
    moved = {s: settled(rows, s) for s in P["settings"]}
    return (f"From generation {max(1, G // 2)} to {G} the mean $\\log\\det\\Sigma$ of any cell moves by at most "
            + "; ".join(f"{fmt_sig(v, 3)} nats under {s}" for s, v in moved.items())
            + ": " + ("every setting but replace has settled, as the literature says (accumulating the data, "
                      "subsampling it or mixing in real data keeps the fit from collapsing), while replace keeps "
                      "falling on its straight line."
                      if all(v < 0.1 * moved["replace"] for s, v in moved.items() if s != "replace") else
                      "not every setting but replace has settled within the generations run."))


def final_generation(rows: list[dict]) -> list[dict]:
    """The rows of the last generation of every cell (the grid's end point)."""
    last = max(r["generation"] for r in rows)
    return [r for r in rows if r["generation"] == last]


def numerics_rows(P: Mapping) -> list[dict]:
    """Naive refitting (``np.cov`` + ``multivariate_normal``) against the carried factor, per cell of
    ``naive_cells`` under ``replace``: the share of naive paths that fail before the last generation, the
    median generation of failure, and the carried simulation's finite paths and lowest ``log det``."""
    G = P["generations"]
    out = []
    for d, n in P["naive_cells"]:
        naive = np.array([gr.naive_recursion(d, n, generations=G, seed=P["seed"] * 100_003 + r)
                          for r in range(P["naive_replicates"])])
        failed = np.isnan(naive).any(axis=1)
        first = [int(np.argmax(np.isnan(p))) for p in naive[failed]]
        carried = gr.simulate_recursion("replace", d, n, generations=G, replicates=P["naive_replicates"],
                                        seed=P["seed"])
        exact, _ = law.replace_logdet_law(d, n, [G])
        out.append({"d": d, "n": n, "generations": G, "paths": P["naive_replicates"],
                    "naive_failed": float(failed.mean()),
                    "naive_median_failure_generation": float(np.median(first)) if first else None,
                    "carried_finite": float(np.isfinite(carried.logdet).all(axis=0).mean()),
                    "carried_lowest_logdet": float(carried.logdet.min()),
                    "carried_mean_at_G": float(carried.logdet[-1].mean()), "exact_at_G": float(exact[0])})
    return out


def sigma_summary(sigma: Mapping, generations: int) -> list[dict]:
    """Per Sigma cell at a few generations: exact change, true drifts, mean drifts of each track, the
    index-set band against the spread over replicates, and the coverages."""
    out = []
    for (d, n), sp in sigma.items():
        exact, exact_sd = law.replace_logdet_law(d, n, np.arange(generations + 1))
        cov = gs.drift_coverage(sp)
        dU = sp.drift("U")
        marks = sorted({1, max(1, generations // 10), max(1, generations // 2), generations})
        for g in marks:
            spread = float(dU[g].std(ddof=1))
            band = float(sp.band_U[g].mean())
            out.append({"d": d, "n": n, "generation": g, "exact_change": float(exact[g]),
                        "exact_sd": float(exact_sd[g]),
                        "true_drift_sigma": float(sp.drift("logdet_sigma")[g].mean()),
                        "true_drift_second_moment": float(sp.drift("logdet_second_moment")[g].mean()),
                        "drift_U": float(dU[g].mean()), "drift_U_centred": float(sp.drift("U_centred")[g].mean()),
                        "drift_U_unit": float(sp.drift("U_unit")[g].mean()),
                        "drift_gamma_kf": float(sp.drift("gamma_kf")[g].mean()),
                        "spread_drift_U": spread, "band_U": band,
                        "variance_missed": 1 - band ** 2 / spread ** 2 if spread > 0 else None,
                        "ridge_floor": gs.ridge_floor(d, sp.m, eps=sp.eps),
                        "median_log_min_eigenvalue": float(np.median(sp.log_min_eigenvalue[g])),
                        "log_ridge": float(np.log(sp.eps / sp.m)),
                        **{f"coverage_{k}": float(v[g]) for k, v in cov.items()}})
    return out


def index_set_sds(noise_rows: list[dict], generation_rows: list[dict]) -> dict:
    """The index-set sds of Track II's drift that a recursion run reports, nats (sds over re-drawn observed
    index sets): ``reseed_index_sd``, that of the difference between theta_0's two evaluations (the
    ``index_set_noise_U`` of its ``noise`` table, ``None`` without one), and ``drift_index_sd_min``,
    ``drift_index_sd_max`` and ``drift_index_sd_points``: the least and largest ``noise_U`` of its
    ``generations`` table over every setting and generation ``>= 1``, and how many (``None``, 0 without any)."""
    reseed = next((float(r["index_set_noise_U"]) for r in noise_rows
                   if r.get("index_set_noise_U") is not None and np.isfinite(float(r["index_set_noise_U"]))), None)
    drift = [float(r["noise_U"]) for r in generation_rows
             if r["generation"] >= 1 and r.get("noise_U") is not None and np.isfinite(float(r["noise_U"]))]
    return {"reseed_index_sd": reseed, "drift_index_sd_min": min(drift) if drift else None,
            "drift_index_sd_max": max(drift) if drift else None, "drift_index_sd_points": len(drift)}


def _span(lo: float, hi: float, digits: int = 3) -> str:
    a, b = fmt_sig(lo, digits), fmt_sig(hi, digits)
    return a if a == b else f"{a}–{b}"


def evaluation_noise_sentence(fac: Mapping) -> str | None:
    """Track II's evaluation noise (``fac["evaluation_noise_U"]``, an sd) against the index-set sds the run
    reports (:func:`index_set_sds`, keys in ``fac``): as a multiple of the sd of each generation's drift
    (least to largest) and of the sd of the difference between theta_0's two evaluations; ``None`` when
    the run reports neither."""
    ev = fac["evaluation_noise_U"]
    lo, hi, reseed = fac["drift_index_sd_min"], fac["drift_index_sd_max"], fac["reseed_index_sd"]
    parts = []
    if lo:
        parts.append(f"{_span(ev / hi, ev / lo)} times the index-set sd the run reports for the drift of each "
                     f"generation ({_span(lo, hi)} nats over its {fac['drift_index_sd_points']} (setting, generation) "
                     "points)")
    if reseed:
        parts.append(f"{fmt_sig(ev / reseed, 3)} times the index-set sd of the difference between $\\theta_0$'s two "
                     f"evaluations ({fmt_sig(reseed, 3)} nats)")
    if not parts:
        return None
    return f"Track II's evaluation noise (an sd, {fmt_sig(ev, 3)} nats) is " + ", and ".join(parts) + "."


def summary_clause(agreed: list, disagreed: list, *, missed_span: str, generation: int) -> str:
    """The chapter's finding in one clause (glued into the introduction): how many of the checks
    (``agreed``, ``disagreed``: their descriptions) agreed with the exact law, and what share of the
    drift's run-to-run variance the index-set band misses at ``generation`` (``missed_span``: a
    percentage or a range of them, already formatted)."""
    return (f"On recursive Gaussian fitting, whose law is exact, {len(agreed)} of the checks agreed with it and "
            f"{len(disagreed)} did not; among these, the index-set band that every drift in this book carries misses "
            f"{missed_span} % of the drift's run-to-run variance at generation {generation}")
