"""The corpus pipeline end to end on fixtures, the frozen assets, and the prompt bank."""
import json
from pathlib import Path

import pytest

from sigma_lib.common.records import read_jsonl
from sigma_lib.corpus.assets import TECH_DIR, load_contexts, verify_assets
from sigma_lib.corpus.bpe import load_bpe
from sigma_lib.corpus.build import CorpusParams, build_corpus, compare_with_frozen
from sigma_lib.corpus.prompts import BUCKETS, load_prompt_bank, validate_prompt_bank
from sigma_lib.corpus.sources import Source, source_by_name

FIXTURES = Path(__file__).parent / "fixtures" / "tech_html"
FIXTURE_SOURCES = (
    Source("alpha", "no-such-package", "public-domain", str(FIXTURES / "alpha"), ("*.html",)),
    Source("beta", "no-such-package", "MIT", str(FIXTURES / "beta"), ("*.html",)),
)
PARAMS = CorpusParams(n_contexts=6, n_heldout=2, vocab_size=400, seed=0)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    manifest = build_corpus(out, FIXTURE_SOURCES, PARAMS, progress=False, prompts_file=None)
    return out, manifest


def test_pipeline_end_to_end(built):
    out, manifest = built
    train, held = load_contexts(out, "train"), load_contexts(out, "heldout")
    assert len(train) == 6 and len(held) == 2
    assert not {c["id"] for c in train} & {c["id"] for c in held}
    tok = load_bpe(out / "tokenizer.json")
    for c in train + held:
        assert c["n_tokens"] == 64 == len(tok.encode(c["text"]).ids)
        assert c["source"] in ("alpha", "beta") and c["licence"] and c["page"].endswith(".html")
        assert "SHOULD_VANISH" not in c["text"]
    assert {c["source"] for c in train} == {"alpha", "beta"}
    stats = json.loads((out / "build_stats.json").read_text())
    assert stats["dedup"]["exact_duplicates"] + stats["dedup"]["near_duplicates"] >= 1  # the planted copies
    assert verify_assets(out) == manifest
    assert manifest["parameters"]["n_contexts"] == 6


def test_rebuild_is_byte_identical(built, tmp_path):
    out, _ = built
    build_corpus(tmp_path, FIXTURE_SOURCES, PARAMS, progress=False, prompts_file=None)
    diff = compare_with_frozen(tmp_path, out)
    assert diff and all(diff.values()), diff


def test_tampering_is_detected(built, tmp_path):
    out, _ = built
    for f in out.iterdir():
        if f.is_file():
            (tmp_path / f.name).write_bytes(f.read_bytes())
    with open(tmp_path / "contexts.jsonl", "a") as f:
        f.write('{"id": "planted"}\n')
    (tmp_path / "extra.txt").write_text("x")
    with pytest.raises(ValueError, match="contexts.jsonl: SHA-256 differs") as e:
        verify_assets(tmp_path)
    assert "extra.txt: not listed" in str(e.value) and "heldout.jsonl" not in str(e.value)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(ValueError, match="manifest .* is corrupt"):
        verify_assets(tmp_path)


def test_missing_source_folder_is_named(tmp_path):
    bad = (Source("gone", "no-such-package", "MIT", str(tmp_path / "nowhere"), ("*.html",)),)
    with pytest.raises(FileNotFoundError, match="source 'gone'.*no-such-package"):
        build_corpus(tmp_path / "out", bad, PARAMS, progress=False, prompts_file=None)
    with pytest.raises(ValueError, match="unknown source"):
        source_by_name("kubernetes")


def test_corrupt_jsonl_line_is_named(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(ValueError, match="line 2"):
        read_jsonl(p)


# The frozen assets shipped in the package ----------------------------------------------------

def test_frozen_assets_match_their_manifest():
    manifest = verify_assets(TECH_DIR)
    assert {s["name"] for s in manifest["sources"]} == {"python", "postgresql", "sqlite", "rust", "go"}
    assert all(s["version"] and s["licence"] for s in manifest["sources"])
    for s in manifest["sources"]:
        assert f"licenses/{s['name']}.copyright" in manifest["files"]


def test_frozen_contexts():
    train, held = load_contexts(split="train"), load_contexts(split="heldout")
    assert len(train) >= 1000
    assert len({c["id"] for c in train + held}) == len(train) + len(held)
    assert len({c["content_hash"] for c in train + held}) == len(train) + len(held)
    tok = load_bpe(TECH_DIR / "tokenizer.json")
    assert all(len(tok.encode(c["text"]).ids) == 64 == c["n_tokens"] for c in train + held)
    counts = {}
    for c in train:
        counts[c["source"]] = counts.get(c["source"], 0) + 1
    assert max(counts.values()) - min(counts.values()) <= 1  # balanced across sources


def test_prompt_bank():
    bank = load_prompt_bank()
    assert 163 <= len(bank) <= 200
    assert {p["bucket"] for p in bank} == set(BUCKETS)
    assert len({p["id"] for p in bank}) == len(bank)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b + [dict(b[0])], "duplicate prompt ids"),
    (lambda b: b[:100], "expected 163-200"),
    (lambda b: [dict(p, bucket="Poetry") if i == 0 else p for i, p in enumerate(b)], "unknown bucket"),
    (lambda b: [dict(p, text=" ") if i == 0 else p for i, p in enumerate(b)], "non-empty text"),
    (lambda b: [p for p in b if p["bucket"] != "Neutral"] + [dict(p, id=p["id"] + "x", text=p["text"] + "?")
                                                              for p in b if p["bucket"] == "Creative"],
     "buckets without prompts"),
    (lambda b: [p for p in b if p["bucket"] != "Neutral" or p["id"] < "tech-neu-010"]
     + [dict(p, id=p["id"] + "x", text=p["text"] + "?") for p in b if p["bucket"] == "Creative"],
     "unbalanced"),
])
def test_bad_prompt_banks(mutate, message):
    with pytest.raises(ValueError, match=message):
        validate_prompt_bank(mutate(load_prompt_bank()))
