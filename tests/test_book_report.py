"""The book's report layer: number notation, tables with CSV links, claims and their verdicts."""
import importlib.util
import math
import os
from pathlib import Path

import pytest

from sigma_lib.maths import drift_bias
from sigma_lib.report import book, claims
from sigma_lib.report.book import Col


@pytest.mark.parametrize("x", [0.000102, 1e-7, -1536.562, 123456.7, 2.35, -0.0335, 0.95])
def test_numbers_are_positional(x):
    for text in (book.fmt_sig(x), book.fmt_exact(x), book.fmt_sig(x, 2)):
        assert "e" not in text.lower(), text


def test_paper_numbers_kept_as_printed():
    assert book.fmt_exact(0.000102) == "0.000102"
    assert book.fmt_sig(0.000102, 3) == "0.000102"
    assert book.paper_printed("hhi_g0", 0.0001) == "0.000100"
    assert book.paper_printed("slope_gamma", 2.35) == "2.350"
    assert book.paper_printed("drift_U_final", -1536.562) == "−1536.562"
    assert book.fmt_sig(-1536.562) == "−1537"
    assert book.fmt_sig(-1.0) == book.fmt_sig(-1) == "−1"  # whole numbers take the same minus sign
    assert book.fmt_sig(None) == book.fmt_sig(math.nan) == "–"
    assert book.fmt_sig(True) == "yes" and book.fmt_sig(7) == "7"


def test_markdown_table_aligns_numbers_and_escapes_text():
    text = book.markdown_table([{"a": "x|y", "b": 1.5}, {"a": "z", "b": None}], [Col("a", "A", "text"), Col("b", "B")])
    lines = text.splitlines()
    assert lines[0] == "| A | B |"
    assert lines[1] == "|:---|---:|"
    assert "x\\|y" in lines[2] and lines[3].endswith("| – |")


def test_chapter_table_writes_csv_and_links_it(tmp_path):
    ch = book.Chapter("demo", tmp_path / "out", {"profile": "test"})
    frame = ch.table([{"a": 1, "b": 0.5}], "t", show=False)
    assert list(frame.columns) == ["a", "b"]
    assert (tmp_path / "out" / "t.csv").read_text().splitlines() == ["a,b", "1,0.5"]
    rel = os.path.relpath((tmp_path / "out" / "t.csv").resolve(), book.RENDERED_FROM)
    assert ch.download("t") == f"{{download}}`t.csv <{Path(rel).as_posix()}>`"
    note = ch.rerun_text()
    assert "papermill notebooks/demo.ipynb" in note and "`profile='test'`" in note


def test_mean_stage_seconds_counts_shared_generations_once():
    rows = [{"setting": "S1", "generation": 1, "stage": "train", "seconds": 2.0},
            {"setting": "S2", "generation": 1, "stage": "train", "seconds": 2.0},   # shared g1
            {"setting": "S2", "generation": 2, "stage": "train", "seconds": 4.0},
            {"setting": "S1", "generation": 0, "stage": "embed", "seconds": 9.0}]
    assert book.mean_stage_seconds(rows) == {"train": 3.0}
    assert book.total_compute_seconds(rows) == 15.0


def test_spearman_permutation_is_exact_for_few_points():
    rho, p = claims.spearman_permutation([0, 1, 2, 3], [3, 2, 1, 0])
    assert rho == pytest.approx(-1.0) and p == pytest.approx(1 / 24)
    rho, p = claims.spearman_permutation([0, 1, 2, 3], [0, 1, 2, 3])
    assert rho == pytest.approx(1.0) and p == pytest.approx(1.0)


def _gen_rows(dU, dG, noise_U=1.0, noise_G=0.01):
    rows = []
    for s in ("S1", "S2"):
        for g, (u, gam) in enumerate(zip(dU[s], dG[s])):
            rows.append({"setting": s, "generation": g, "drift_U": u, "noise_U": 0.0 if g == 0 else noise_U,
                         "drift_gamma_kf": gam, "noise_gamma_kf": 0.0 if g == 0 else noise_G,
                         "distinct_2": 0.9, "hhi": 0.001})
    return rows


def test_run_claims_judge_each_track_against_its_own_noise():
    rows = _gen_rows({"S1": [0, -3, -6], "S2": [0, -30, -60]}, {"S1": [0, -0.05, -0.1], "S2": [0, 0.001, 0.005]})
    verdicts = {c["id"]: c["verdict"] for c in claims.run_claims(rows)}
    assert verdicts["E1"] == claims.HOLDS          # -6 nats against a noise of 1
    assert verdicts["E2"] == claims.HOLDS          # -0.1 against 0.01
    assert verdicts["E3"] == claims.UNTESTABLE     # a dimensionless drift over one in nats: no common scale
    assert verdicts["E4"] == claims.HOLDS and verdicts["E5"] == claims.HOLDS   # ratio 10
    assert verdicts["E6"] == claims.HOLDS          # |0.005| within 2 x 0.01 while Track II falls
    assert verdicts["E7"] == claims.NOT_RUN        # no run folder: no bootstrap band
    # Track I beyond its own (small) noise: "stays near zero" fails although tiny next to Track II
    rows = _gen_rows({"S1": [0, -3, -6], "S2": [0, -30, -60]}, {"S1": [0, -0.05, -0.1], "S2": [0, -0.02, -0.0335]},
                     noise_G=0.0029)
    assert {c["id"]: c["verdict"] for c in claims.run_claims(rows)}["E6"] == claims.FAILS


def test_creative_is_judged_against_the_other_buckets_beyond_evaluation_noise():
    rows = _gen_rows({"S1": [0, -3, -6], "S2": [0, -30, -60]}, {"S1": [0, -0.05, -0.1], "S2": [0, 0.001, 0.005]})

    def buckets(creative, noise):
        return [{"setting": "S1", "generation": 2, "bucket": b, "drift_U": d, "reseed_noise_U": noise}
                for b, d in (("Creative", creative), ("Code", -10.0), ("Factual", -12.0), ("Howto", -11.0))]

    def e14(creative, noise):
        return next(c for c in claims.run_claims(rows, bucket_rows=buckets(creative, noise)) if c["id"] == "E14")

    assert e14(-20.0, 1.0)["verdict"] == claims.HOLDS    # 9 nats below the others' mean, band 2 x 1.15
    assert e14(-12.5, 1.0)["verdict"] == claims.WITHIN   # most, but by less than the band
    assert e14(-5.0, 1.0)["verdict"] == claims.FAILS
    assert e14(-20.0, None)["verdict"] == claims.UNTESTABLE  # no evaluation noise: no verdict either way
    assert "lowest drift: Creative" in e14(-20.0, 1.0)["value"]


def test_a_lead_shorter_than_a_generation_is_untestable():
    from sigma_lib.report.claims import UNTESTABLE

    rows = _gen_rows({"S1": [0, -3, -6], "S2": [0, -30, -60]}, {"S1": [0, -0.05, -0.1], "S2": [0, 0.001, 0.005]})
    for r in rows:  # every surface signal leaves its band at generation 1 too
        r["distinct_2"], r["hhi"] = (0.9, 0.001) if r["generation"] == 0 else (0.5, 0.05)
    bands = {"distinct_2": 0.01, "hhi": 0.001}
    import unittest.mock as mock

    with mock.patch.object(claims, "bootstrap_sds", lambda *a, **k: bands):
        judged = {c["id"]: c for c in claims.run_claims(rows, run_path="unused")}
    assert judged["E12"]["verdict"] == UNTESTABLE and "resolution of one generation" in judged["E12"]["value"]


def test_drift_bias_cancels_for_gaussian_columns():
    rows = drift_bias.drift_bias_study(**drift_bias.drift_bias_parameters("test"))
    gauss = [r for r in rows if r["kind"] == "gaussian"]
    assert all(abs(r["bias_U"]) > 1 for r in gauss)                       # U itself is biased
    assert all(abs(r["drift_bias"]) <= 3 * r["drift_bias_se"] for r in gauss)  # its drift is not
    with pytest.raises(ValueError, match="m must exceed d"):
        drift_bias.drift_bias_parameters("test", m=8)


def test_book_extension_numbers_equations_as_the_paper():
    path = Path(__file__).resolve().parent.parent / "book" / "_ext" / "sigma_book.py"
    spec = importlib.util.spec_from_file_location("sigma_book", path)
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    assert ext.paper_number("eq-3-4") == "3.4"
    assert ext.paper_number("eq-B-19") == "B.19"
    assert ext.paper_number("my-equation") is None


def test_glued_text_shows_inline_math_as_plain_unicode():
    assert book.plain_math("from $g$ = 1; $\\Delta U$ and $\\Delta\\Gamma_{KF}$") == "from g = 1; ΔU and ΔΓ_KF"
    assert book.plain_math("no math, 5 $ only") == "no math, 5 $ only"
    assert book.plain_math("$\\theta_0$'s hidden states, $m_{10}$") == "θ₀'s hidden states, m₁₀"
