"""The appendix's sentences from run_report (sigma_lib.report.run_report)."""
from sigma_lib.report import run_report as rr

CONST = {"constant": 8.9351534, "n_at_constant": 22, "n_generations": 24, "other_generations": [1, 5, 7]}
FOUND = {"n0": 977, "counts": [977, 998, 1000], "max_residual": 1.9e-6}
FINALS = [{"setting": "S1", "gap": 8.935, "ratio": 1.023}, {"setting": "S2", "gap": 1534.1, "ratio": 54.3}]


def test_the_track1_gap_sentence_gives_the_gap_the_counts_and_which_row_it_is():
    text = rr.track1_gap_sentence(CONST, FOUND, FINALS, d=384, n_paper=1000)
    assert text.startswith("**Derived gap:** 8.935153 nats at 22 of the 24 generations from 2 on (the others: "
                           "generations 5, 7). At $d$ = 384 every gap is $d\\log(n_g/n_0)$ with whole counts: "
                           "$n_0$ = 977, $n_g$ between 998 and 1000, to within 0.0000019 of a whole number")
    assert "384·log(1000/977) = 8.935153 nats." in text
    # the gap is set by the counts, so it is consistent with an S1 series without identifying it
    assert "so its C.4 series is S1" not in text
    assert ("Table 1 S1 row has the same gap (8.935 nats), consistent with its C.4 series being S1's (the paper "
            "does not say which it is); but the gap is set by the counts alone") in text
    assert "The S2 row's gap (1534.1 nats) would need 54.3 times more embeddings" in text
    only_s1 = rr.track1_gap_sentence({**CONST, "other_generations": [5]}, FOUND, FINALS[:1], d=384, n_paper=1000)
    assert "(the others: generation 5)" in only_s1 and "S2 row" not in only_s1


def test_the_track1_gap_sentence_says_when_no_count_explains_the_gap():
    assert rr.track1_gap_sentence(CONST, None, FINALS, d=768, n_paper=None) == (
        "No whole count $n_0 \\le 5000$ makes the gaps $d\\log(n_g/n_0)$ at $d$ = 768: the count explanation fails.")


def test_the_track1_gap_sentence_says_the_constant_holds_only_nearly():
    gap_rows = [{"generation": g, "gap": x} for g, x in
                [(0, 0.0), (1, 8.166384), (2, 8.935152), (5, 8.550961), (6, 8.935152), (7, 8.550961)]]
    text = rr.track1_gap_sentence(CONST, FOUND, FINALS, d=384, n_paper=1000, gap_rows=gap_rows)
    assert ("(the others: generations 5, 7, which differ from it by up to 0.3842 nats: the Track I drift is the "
            "Track II drift plus one constant only nearly).") in text
