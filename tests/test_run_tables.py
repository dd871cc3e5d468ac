"""Table 11 of the paper and the repeat-real comparison beside a run (sigma_lib.report.run_report)."""
import pytest

from sigma_lib.report import run_report as rr


def test_table11_sets_no_difference_against_the_papers_headerless_spearman_columns():
    ours = [{"setting": "S1", "distinct_2_g0": 0.7, "distinct_2_gmax": 0.5, "hhi_g0": 1e-4, "hhi_gmax": 2e-4,
             "spearman_dU_distinct2": 0.9, "spearman_dU_hhi": -0.5, "spearman_distinct2_hhi": -0.4}]
    paper = [{"setting": "S1", "distinct_2_g0": 0.731, "distinct_2_gmax": 0.334, "hhi_g0": 0.000102,
              "hhi_gmax": 0.013385, "spearman_1": 0.926, "spearman_2": -0.286, "spearman_3": -0.318}]
    rows = {r["key"]: r for r in rr.table11_merged(ours, paper)}
    assert rows["distinct_2_g0"]["difference"] == pytest.approx(0.7 - 0.731)
    assert rows["spearman_dU_hhi"]["paper"] == -0.286 and rows["spearman_dU_hhi"]["difference"] is None
    assert "printed column 2 of 3, headers lost" in rows["spearman_dU_hhi"]["quantity"]


def test_the_control_comparison_says_which_way_s2_departs():
    def last(setting, nll, u):
        return {"setting": setting, "generation": 5, "drift_U": u, "noise_U": 1.0, "drift_gamma_kf": 0.0,
                "noise_gamma_kf": 0.01, "heldout_nll": nll, "heldout_nll_se": 0.05, "distinct_2": 0.5, "hhi": 1e-4,
                "weight_distance": 0.1}
    rows = {r["signal"]: r for r in rr.control_comparison([last("S2", 4.5, -60.0), last("repeat-real", 5.5, -40.0)])}
    assert rows["held-out NLL (nats/token)"]["direction"] == "the other way"  # S2 1 nat/token below the control
    assert rows["Track II drift (nats)"]["direction"] == "toward collapse"
    assert rows["Track I drift"]["direction"] is None and rows["distinct-2"]["S2 departs from the control"] is None
