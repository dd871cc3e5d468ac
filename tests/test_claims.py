"""The claims judge (sigma_lib.report.claims): the paper's numbers come from one file, each theory
claim has one judge, and a run's claims come out in order."""

import pytest

from sigma_lib.report import claims
from sigma_lib.report import run_report as rr


def test_paper_values_are_formatted_from_the_stored_tables():
    rep = rr.paper_reported()
    values = claims.paper_values()
    s1 = next(r for r in rep["table1"] if r["setting"] == "S1")
    assert f"{s1['drift_U_final']:.3f}" in values["E1"]
    assert values["E5"] == "ratio 10.2" and values["E3"] == "ratio 0.94"
    assert set(values) >= {f"E{i}" for i in range(1, 14) if i not in (11, 12)}


def test_every_run_claim_has_a_figure_and_a_short_name():
    ids = {f"E{i}" for i in range(1, 15)}
    assert set(claims.RUN_CLAIM_FIGURES) == ids
    assert ids | {f"T{i}" for i in range(1, 9)} <= set(claims.SHORT_NAMES)
    assert len(claims.THEORY_JUDGES) == 8


def test_run_claims_without_s2_are_not_run():
    rows = [{"setting": "S1", "generation": g, "drift_U": -5.0 * g, "noise_U": 1.0, "drift_gamma_kf": -0.1 * g,
             "noise_gamma_kf": 0.01, "distinct_2": 0.9, "hhi": 0.001} for g in range(3)]
    out = claims.run_claims(rows)
    assert [c["id"] for c in out] == [f"E{i}" for i in range(1, 15)]
    verdict = {c["id"]: c["verdict"] for c in out}
    assert verdict["E1"] == verdict["E2"] == claims.HOLDS
    assert verdict["E4"] == verdict["E6"] == claims.NOT_RUN


def test_verdict_sentence_counts_and_names():
    rows = [{"id": "E1", "verdict": claims.HOLDS}, {"id": "E4", "verdict": claims.HOLDS},
            {"id": "E5", "verdict": claims.FAILS}]
    text = claims.verdict_sentence(rows)
    assert text.startswith("of the 3 claims, 2 hold (") and "1 fails (S2's tenfold contraction)" in text


def test_a_missing_theory_table_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="theorem1_violations"):
        claims.theory_claims(tmp_path)
