"""The sentences of the chapter "Sigma against known answers" (sigma_lib.report.known_answers)."""
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
    text = ka.other_settings_sentence(agree, ["replace", "accumulate"])
    assert text.startswith("**The other settings.**") and "replace," not in text
    assert "accumulate, $\\mathrm{tr}\\,\\Sigma_g / d$: 100 % within 2 s.e., largest $|z|$ 1.39;" in text
    assert text.endswith("largest $|z|$ 5 (**not** within the Monte-Carlo error).")
    assert ka.other_settings_sentence(agree[:1], ["replace"]) is None


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
