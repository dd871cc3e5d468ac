"""Each stage of the TECH corpus pipeline on small HTML fixtures (tests/fixtures/tech_html)."""
from pathlib import Path

import pytest

from sigma_lib.corpus.bpe import load_bpe, train_bpe
from sigma_lib.corpus.dedup import content_hash, deduplicate
from sigma_lib.corpus.filters import is_english, is_prose_paragraph, passes_quality
from sigma_lib.corpus.html_text import html_to_paragraphs, html_to_text
from sigma_lib.corpus.selection import balanced_quotas, select_balanced
from sigma_lib.corpus.windows import text_windows, token_windows

FIXTURES = Path(__file__).parent / "fixtures" / "tech_html"


@pytest.mark.parametrize("page", ["alpha/sphinx_page.html", "alpha/docbook_page.html", "beta/mdbook_page.html"])
def test_html_to_text_removes_boilerplate_and_code(page):
    text = html_to_text((FIXTURES / page).read_bytes())
    assert len(text.split()) > 100
    assert "SHOULD_VANISH" not in text  # scripts, navigation, sidebars, footers, code blocks, tables
    assert "¶" not in text


def test_inline_code_stays_in_its_sentence():
    paras = html_to_paragraphs((FIXTURES / "alpha/sphinx_page.html").read_bytes())
    assert any("The CREATE INDEX statement builds an index" in p for p in paras)
    # innermost blocks only: the list items come once each
    assert sum("Remove indexes that are never used" in p for p in paras) == 1


def test_no_main_content_gives_no_paragraphs():
    assert html_to_paragraphs("") == []


def test_english_filter():
    de = "Dies ist ein deutscher Satz über Datenbanken, der vom englischen Filter entfernt werden muss."
    en = "The planner can walk the index instead of scanning every page of the table."
    assert is_english(en) and not is_english(de)
    assert not is_english("x = f(y) + g[z] * 3")
    assert not is_english("")
    paras = html_to_paragraphs((FIXTURES / "alpha/docbook_page.html").read_bytes())
    assert any(p.startswith("Dies ist") for p in paras)
    assert not any(p.startswith("Dies ist") for p in paras if is_english(p))


def test_prose_and_quality_filters():
    assert is_prose_paragraph("A transaction groups several statements so that they all take effect.")
    assert not is_prose_paragraph("Changed in version 3.5.")
    assert not is_prose_paragraph("{x} = [1, 2, 3]; y_1 = $z$ <= 10 && q |= 7 ; @@@ ###")
    good = "Each value has a single owner at any time, and when the owner goes out of scope the value is dropped."
    assert passes_quality(good)
    assert not passes_quality("{{x}} <- [y] == $z | {a} = [b] <> {c} | {d} == [e] | {f} |= [g]")
    assert not passes_quality(good + " \ufffd")
    assert not passes_quality("the the the the the the the the the the the the")


@pytest.fixture(scope="module")
def fixture_texts():
    return [html_to_text(p.read_bytes()) for p in sorted(FIXTURES.rglob("*.html"))]


@pytest.fixture(scope="module")
def tokenizer(fixture_texts):
    return train_bpe(fixture_texts, vocab_size=400)


def test_bpe_is_deterministic_and_round_trips(fixture_texts, tokenizer, tmp_path):
    again = train_bpe(fixture_texts, vocab_size=400)
    assert tokenizer.to_str() == again.to_str()
    s = fixture_texts[0][:300]
    assert tokenizer.decode(tokenizer.encode(s).ids) == s
    path = tmp_path / "tok.json"
    tokenizer.save(str(path))
    assert load_bpe(path).encode(s).ids == tokenizer.encode(s).ids
    path.write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        load_bpe(path)
    with pytest.raises(FileNotFoundError):
        load_bpe(tmp_path / "missing.json")


def test_token_windows_have_fixed_length_and_stride():
    wins = list(token_windows(list(range(200)), length=64, stride=48))
    assert [s for s, _ in wins] == [0, 48, 96]
    assert all(len(w) == 64 for _, w in wins)
    with pytest.raises(ValueError):
        list(token_windows([1, 2], 0, 1))


def test_text_windows_are_exactly_64_tokens(fixture_texts, tokenizer):
    wins = [w for t in fixture_texts for _, w in text_windows(t, tokenizer, 64, 64)]
    assert len(wins) >= 10
    assert all(len(tokenizer.encode(w).ids) == 64 for w in wins)


def test_planted_exact_and_near_duplicates_are_removed():
    base = ("Each value has a single owner at any time, and when the owner goes out of scope the value is "
            "dropped and its memory is returned to the allocator for reuse by later parts of the program.")
    exact = "  " + base.upper().replace(" ", "   ") + " "  # same after normalisation
    near = base.replace("returned", "released")  # one word: 3-word shingle Jaccard ~0.84
    other = ("A cache keeps the results of expensive work close at hand so that the next request for the same "
             "thing is answered quickly, as long as the cached answer is not stale.")
    kept, stats = deduplicate([base, exact, other, near])
    assert kept == [0, 2]
    assert stats == {"input": 4, "exact_duplicates": 1, "near_duplicates": 1, "kept": 2}
    assert content_hash(base) == content_hash(exact)


def test_balanced_selection():
    assert balanced_quotas({"a": 100, "b": 100, "c": 5}, 60) == {"a": 28, "b": 27, "c": 5}
    with pytest.raises(ValueError, match="only 10 candidates"):
        balanced_quotas({"a": 5, "b": 5}, 11)
    keys = [f"k{i:03d}" for i in range(300)]
    sources = ["s1"] * 150 + ["s2"] * 100 + ["s3"] * 50
    sel, held = select_balanced(keys, sources, 90, 30, seed=0)
    assert len(sel) == 90 and len(held) == 30 and not set(sel) & set(held)
    assert [sum(sources[i] == s for i in sel + held) for s in ("s1", "s2", "s3")] == [40, 40, 40]
    # Deterministic, and independent of the input order.
    assert select_balanced(keys, sources, 90, 30, seed=0) == (sel, held)
    perm = list(reversed(range(300)))
    sel2, held2 = select_balanced([keys[i] for i in perm], [sources[i] for i in perm], 90, 30, seed=0)
    assert sorted(keys[perm[i]] for i in sel2) == sorted(keys[i] for i in sel)
    assert select_balanced(keys, sources, 90, 30, seed=1)[0] != sel
