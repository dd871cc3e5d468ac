"""The sentences of the chapter "Sigma against known answers" (sigma_lib.report.known_answers)."""
import re

from sigma_lib.report import known_answers as ka

LOGDET, TRACE, MEAN = "log det Sigma_g - log det Sigma_0", "tr Sigma_g / d", "|mu_g - mu_0|^2"


def agreement_row(setting, quantity, within=0.95, zmax=2.0):
    return {"setting": setting, "quantity": quantity, "points": 40, "within_2se": within, "max_abs_z": zmax,
            "worst_d": 1, "worst_n": 10, "worst_generation": 6, "sd_ratio_max_gap": 0.1}


def simulated_rows(settings, fall, falling=("replace",)):
    """Rows of recursion_table's shape: two cells per setting, generations 1..10, log det falling by
    ``fall[setting]`` per generation up to generation 5 (the settings in ``falling``: every generation)."""
    out = []
    for s in settings:
        for d in (1, 3):
            for g in range(1, 11):
                out.append({"setting": s, "d": d, "n": 10, "generation": g,
                            "mean_logdet_change": -fall[s] * (g if s in falling else min(g, 5)),
                            "mean_trace_ratio": 0.8 + 0.05 * d, "exact_trace_ratio": 1.0})
    return out


def test_the_agreement_rule_and_the_verdict_after_a_recheck():
    assert ka.agrees(agreement_row("replace", LOGDET, 0.9, 4.4))
    assert not ka.agrees(agreement_row("replace", LOGDET, 0.89, 1.0))
    assert not ka.agrees(agreement_row("replace", LOGDET, 1.0, 4.5))
    bad = agreement_row("replace", LOGDET, 0.8, 3.4)
    assert ka.agreement_verdict(agreement_row("replace", LOGDET), {}) == "agrees"
    assert ka.agreement_verdict(bad, {("replace", LOGDET): {"z": -2.9}}) == "rechecked"
    assert ka.agreement_verdict(bad, {("replace", LOGDET): {"z": 3.1}}) == "differs"
    assert ka.agreement_verdict(bad, {}) == "differs"


def test_the_grid_sentence_counts_cells_and_names_those_drawing_sufficient_statistics():
    P = {"settings": ["replace"], "ds": [1, 3], "ns": [10, 32], "subsample_max_nd": 1000, "replicates": 100,
         "generations": 10, "sufficient_above_nd": 30}
    text = ka.grid_sentence(P, 40, "LINK")
    assert text.startswith("4 cells: settings replace; $d$ in [1, 3], $n$ in [10, 32] with $n > d$")
    assert "100 seeded replicates per cell, generations 1–10: 40 rows in LINK." in text
    assert text.endswith("setting ($d$, $n$)): replace (1, 32), replace (3, 32).")
    assert ka.grid_sentence({**P, "sufficient_above_nd": 10 ** 6}, 40, "LINK").endswith("Every cell draws its points.")


def test_the_replace_sentence_gives_the_share_the_worst_point_and_the_verdict():
    rep = agreement_row("replace", LOGDET, 0.825, 3.37)
    text = ka.replace_sentence(rep, {("replace", LOGDET): {"replicates": 2000, "z": 0.981}}, replicates=100)
    assert "82.5 % of the 40 (cell, generation) points lie within 2 standard errors" in text
    assert "(largest $|z|$ 3.37, at $d = 1$, $n = 10$, $g = 6$)" in text
    assert "simulated again with 2000 replicates the worst point is at $z$ = 0.98" in text
    assert "to within 10 % (an sd estimated from 100 replicates has a relative error of about 7.1 %" in text
    assert "**not** the agreement the law predicts." in ka.replace_sentence(rep, {}, replicates=100)
    good = agreement_row("replace", LOGDET)
    assert "agreement, within the Monte-Carlo error." in ka.replace_sentence(good, {}, replicates=100)


def test_the_trace_sentence_gives_the_lowest_ratio_and_says_when_it_does_not_agree():
    rows = simulated_rows(["replace"], {"replace": 0.5})
    text = ka.trace_sentence(agreement_row("replace", TRACE, 0.925, 2.12), rows)
    assert "92.5 % of its points within 2 standard errors (largest $|z|$ 2.12)" in text
    assert "the simulated mean is 0.85 of the exact $((n-1)/n)^g$ at $d = 1$, $n = 10$." in text
    assert "**This does not agree**" not in text
    assert "**This does not agree**" in ka.trace_sentence(agreement_row("replace", TRACE, 0.5, 6.0), rows)


def test_the_other_settings_sentence_lists_every_setting_but_replace():
    agree = [agreement_row("replace", TRACE), agreement_row("accumulate", TRACE, 1.0, 1.39),
             agreement_row("accumulate", MEAN, 0.5, 5.0)]
    text = ka.other_settings_sentence(agree, ["replace", "accumulate"], {})
    assert text.startswith("**The other settings.**") and "replace," not in text
    assert "accumulate, $\\mathrm{tr}\\,\\Sigma_g / d$: 100 % within 2 s.e., largest $|z|$ 1.39;" in text
    assert text.endswith("largest $|z|$ 5 (at $d = 1$, $n = 10$, $g = 6$): **not** within the Monte-Carlo error.")
    assert ka.other_settings_sentence(agree[:1], ["replace"], {}) is None


def test_the_other_settings_sentence_follows_the_recheck_of_a_flagged_point():
    """The page's case: alpha-0.1 flagged by the first pass (|z| 5.49), the recheck with 2000 replicates at
    z = 0.168: the sentence must not say "not within the Monte-Carlo error" while the recheck agrees."""
    flagged = agreement_row("alpha-0.1", TRACE, 0.9495, 5.494)
    cleared = {("alpha-0.1", TRACE): {"replicates": 2000, "z": 0.168}}
    text = ka.other_settings_sentence([flagged], ["alpha-0.1"], cleared)
    assert "**not**" not in text
    assert text.endswith("95 % within 2 s.e., largest $|z|$ 5.49 (at $d = 1$, $n = 10$, $g = 6$), flagged by this "
                         "pass, but simulated again with 2000 replicates that point is at $z$ = 0.168: Monte-Carlo "
                         "error, and it agrees.")
    still = ka.other_settings_sentence([flagged], ["alpha-0.1"],
                                       {("alpha-0.1", TRACE): {"replicates": 2000, "z": 45.9}})
    assert still.endswith("(at $d = 1$, $n = 10$, $g = 6$), and simulated again with 2000 replicates it is at $z$ = "
                          "45.9: **not** within the Monte-Carlo error.")


def test_the_agreement_table_headers_hold_no_bare_pipe_and_the_table_keeps_its_columns():
    from sigma_lib.report.book import markdown_table

    assert all("|" not in c.header for c in ka.AGREEMENT_COLUMNS if c.header)
    row = {**agreement_row("alpha-0.1", MEAN), "quantity_tex": ka.QUANTITY_TEX[MEAN]}
    header, rule, body = markdown_table([row], ka.AGREEMENT_COLUMNS).split("\n")

    def cells(line):  # a GFM row splits on every pipe not escaped by a backslash
        return len(re.split(r"(?<!\\)\|", line.strip().strip("|")))
    assert cells(header) == cells(rule) == cells(body) == len(ka.AGREEMENT_COLUMNS)


def test_the_settled_sentence_says_whether_every_setting_but_replace_settles():
    P = {"settings": ["replace", "accumulate"], "generations": 10}
    text = ka.settled_sentence(simulated_rows(P["settings"], {"replace": 1.0, "accumulate": 0.01}), P)
    assert text.startswith("From generation 5 to 10 the mean $\\log\\det\\Sigma$ of any cell moves by at most "
                           "5 nats under replace; 0 nats under accumulate: every setting but replace has settled")
    text = ka.settled_sentence(simulated_rows(P["settings"], {"replace": 1.0, "accumulate": 0.2},
                                              falling=P["settings"]), P)
    assert text.endswith("not every setting but replace has settled within the generations run.")


def test_the_summary_clause_counts_the_checks_and_the_missed_variance():
    text = ka.summary_clause(["a"] * 11, ["b"] * 2, missed_span="80.2–97.5", generation=400)
    assert text == ("On recursive Gaussian fitting, whose law is exact, 11 of the checks agreed with it and 2 did not; "
                    "among these, the index-set band that every drift in this book carries misses 80.2–97.5 % of the "
                    "drift's run-to-run variance at generation 400")


def test_the_index_set_sds_are_those_of_the_drift_each_generation_and_of_the_reseeded_theta0():
    noise = [{"kind": "theta_0 evaluated with other seeds", "index_set_noise_U": 2.2554765}]
    gens = [{"setting": s, "generation": g, "noise_U": v} for s, vs in (("S1", (0.0, 2.77, 2.35, 3.184)),
                                                                      ("S2", (0.0, 1.988, float("nan"), 2.5)))
            for g, v in enumerate(vs)]
    sds = ka.index_set_sds(noise, gens)
    assert sds == {"reseed_index_sd": 2.2554765, "drift_index_sd_min": 1.988, "drift_index_sd_max": 3.184,
                   "drift_index_sd_points": 5}
    assert ka.index_set_sds([], []) == {"reseed_index_sd": None, "drift_index_sd_min": None,
                                        "drift_index_sd_max": None, "drift_index_sd_points": 0}


def test_the_evaluation_noise_sentence_names_each_index_set_sd_and_says_sd_not_band():
    fac = {"evaluation_noise_U": 4.5267, "reseed_index_sd": 2.2554765, "drift_index_sd_min": 1.988,
           "drift_index_sd_max": 3.184, "drift_index_sd_points": 16}
    text = ka.evaluation_noise_sentence(fac)
    assert text == ("Track II's evaluation noise (an sd, 4.53 nats) is 1.42–2.28 times the index-set sd the run "
                    "reports for the drift of each generation (1.99–3.18 nats over its 16 (setting, generation) "
                    "points), and 2.01 times the index-set sd of the difference between $\\theta_0$'s two "
                    "evaluations (2.26 nats).")
    assert "band" not in text
    only = ka.evaluation_noise_sentence({**fac, "drift_index_sd_min": None, "drift_index_sd_max": None,
                                         "drift_index_sd_points": 0})
    assert only == ("Track II's evaluation noise (an sd, 4.53 nats) is 2.01 times the index-set sd of the difference "
                    "between $\\theta_0$'s two evaluations (2.26 nats).")
    assert ka.evaluation_noise_sentence({**fac, "reseed_index_sd": None, "drift_index_sd_min": None,
                                         "drift_index_sd_max": None}) is None
