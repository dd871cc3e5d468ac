"""The frozen new-real windows (unused real TECH windows, block by block) and their selection."""
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from sigma_lib.common.records import read_jsonl, sha256_file
from sigma_lib.corpus.assets import TECH_DIR, load_contexts, load_manifest
from sigma_lib.corpus.bpe import load_bpe
from sigma_lib.corpus.build import CorpusParams, build_corpus
from sigma_lib.corpus.new_real import (
    BLOCK_SIZE,
    MAX_BLOCKS,
    NEW_REAL_DIR,
    WINDOWS,
    block_quotas,
    freeze_new_real,
    is_balanced,
    load_new_real,
    load_new_real_block,
    select_new_real,
    verify_new_real,
)
from sigma_lib.corpus.sources import Source

FIXTURES = Path(__file__).parent / "fixtures" / "tech_html"
FIXTURE_SOURCES = (
    Source("alpha", "no-such-package", "public-domain", str(FIXTURES / "alpha"), ("*.html",)),
    Source("beta", "no-such-package", "MIT", str(FIXTURES / "beta"), ("*.html",)),
)


@pytest.fixture(scope="module")
def frozen():
    manifest = verify_new_real()
    return manifest, load_new_real(0, manifest["counts"]["blocks"])


@pytest.fixture(scope="module")
def used():
    return load_contexts(split="train") + load_contexts(split="heldout")


# The frozen asset ----------------------------------------------------------------------------

def test_manifest_verifies_and_records_its_provenance(frozen):
    manifest, rows = frozen
    assert manifest["files"] == {WINDOWS: sha256_file(NEW_REAL_DIR / WINDOWS)}
    tech = load_manifest(TECH_DIR)
    assert manifest["tech_manifest_sha256"] == sha256_file(TECH_DIR / "manifest.json")
    assert manifest["sources"] == tech["sources"] and manifest["parameters"] == tech["parameters"]
    sel = manifest["selection"]
    assert (sel["block_size"], sel["max_blocks"], sel["seed"]) == (BLOCK_SIZE, MAX_BLOCKS, 0) and sel["rule"]
    c = manifest["counts"]
    assert c["windows"] == len(rows) == c["blocks"] * BLOCK_SIZE <= MAX_BLOCKS * BLOCK_SIZE
    assert c["selected"] == dict(Counter(r["source"] for r in rows))
    per_block = Counter((r["block"], r["source"]) for r in rows)
    assert c["per_block"] == [{s: per_block[b, s] for s in sorted(c["available"])} for b in range(c["blocks"])]
    assert (NEW_REAL_DIR / WINDOWS).stat().st_size < 6.3e6


def test_disjoint_from_the_training_and_heldout_contexts(frozen, used):
    _, rows = frozen
    assert len({r["id"] for r in rows}) == len(rows) == len({r["content_hash"] for r in rows})
    assert not {r["id"] for r in rows} & {u["id"] for u in used}
    assert not {r["content_hash"] for r in rows} & {u["content_hash"] for u in used}
    assert not {r["text"] for r in rows} & {u["text"] for u in used}


def test_records_are_contexts_with_a_block(frozen, used):
    _, rows = frozen
    assert all(list(r) == list(used[0]) + ["block"] for r in rows)
    assert all(r["n_tokens"] == 64 and r["id"] == f"{r['source']}-{r['content_hash'][:12]}" for r in rows)
    tok = load_bpe(TECH_DIR / "tokenizer.json")
    sample = rows[::97]
    assert all(len(e.ids) == 64 for e in tok.encode_batch([r["text"] for r in sample]))


def test_blocks_are_disjoint_and_sorted_by_source(frozen):
    manifest, rows = frozen
    n = manifest["counts"]["blocks"]
    blocks = [[r for r in rows if r["block"] == b] for b in range(n)]
    assert [r for block in blocks for r in block] == rows  # the file is block by block
    for b in (0, 13, 14, n - 1):  # the loader, one block at a time
        assert load_new_real_block(b) == blocks[b]
    assert all(len(block) == BLOCK_SIZE and {r["block"] for r in block} == {b} for b, block in enumerate(blocks))
    ids = [{r["id"] for r in block} for block in blocks]
    assert all(not ids[a] & ids[b] for a in range(len(ids)) for b in range(a + 1, len(ids)))
    assert all(block == sorted(block, key=lambda r: (r["source"], r["content_hash"])) for block in blocks)
    assert load_new_real(3, 2) == blocks[3] + blocks[4]


def test_block_source_mix_follows_the_rule(frozen, used):
    manifest, rows = frozen
    c = manifest["counts"]
    sources = sorted(c["available"])
    assert sources == sorted({u["source"] for u in used})
    assert max(Counter(u["source"] for u in load_contexts(split="train")).values()) - \
        min(Counter(u["source"] for u in load_contexts(split="train")).values()) <= 1  # the mix to follow
    full = c["fully_balanced_blocks"]
    assert full == 14  # go: 994 windows after dedup, 280 used, 714 = 14 x 51 left
    assert all(is_balanced(q, sources) for q in c["per_block"][:full])
    taken = {s: 0 for s in sources}
    for q in c["per_block"]:  # every block is block_quotas of what was left before it
        assert q == block_quotas({s: c["available"][s] - taken[s] for s in sources}, BLOCK_SIZE)
        taken = {s: taken[s] + q[s] for s in sources}
    for q in c["per_block"][full:]:  # after go is exhausted: balanced over the sources that remain
        present = [s for s in sources if q[s]]
        assert is_balanced(q, present) and len(present) == len(sources) - 1
    assert c["selected"]["go"] == c["available"]["go"]
    assert f"{full} of {c['blocks']} blocks balanced over all 5 sources" in manifest["balance"]


def test_tampered_or_missing_asset_is_refused(tmp_path):
    copy = tmp_path / "new_real"
    shutil.copytree(NEW_REAL_DIR, copy)
    lines = (copy / WINDOWS).read_text(encoding="utf-8").splitlines(keepends=True)
    rec = json.loads(lines[5])
    rec["text"] = rec["text"].replace(" ", "  ", 1)
    lines[5] = json.dumps(rec, ensure_ascii=False) + "\n"
    (copy / WINDOWS).write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match="windows.jsonl: SHA-256 differs"):
        load_new_real(0, 1, directory=copy)
    (copy / WINDOWS).unlink()
    with pytest.raises(FileNotFoundError, match=r"windows.jsonl not found.*new_real --freeze"):
        load_new_real_block(0, directory=copy)
    with pytest.raises(FileNotFoundError, match="manifest.json not found"):
        load_new_real(0, 1, directory=tmp_path / "nowhere")


def test_blocks_out_of_range_are_refused(frozen):
    n = frozen[0]["counts"]["blocks"]
    for start, count in ((n, 1), (-1, 1), (n - 1, 2), (0, 0)):
        with pytest.raises(ValueError, match=f"the new-real asset has blocks 0..{n - 1}"):
            load_new_real(start, count)


# The selection on small inputs ---------------------------------------------------------------

def _windows(n_per_source: dict[str, int]) -> list[dict]:
    """Distinct fake windows: each text is 40 words no other text shares."""
    out = []
    for s, n in sorted(n_per_source.items()):
        for i in range(n):
            text = " ".join(f"{s}{i}w{k}" for k in range(40))
            out.append({"id": f"{s}-{i:03d}", "source": s, "content_hash": f"{s}{i:03d}".ljust(64, "0"), "text": text})
    return out


def test_selection_excludes_used_and_near_duplicates_and_is_seeded():
    windows = _windows({"a": 30, "b": 30, "c": 9})
    near = dict(windows[1], id="a-near", content_hash="f" * 64, text=windows[1]["text"].replace("a1w39", "x"))
    used = [windows[0], dict(near, text=windows[1]["text"], id="u", content_hash="e" * 64)]
    chosen, counts = select_new_real(windows + [near], used, block_size=7, max_blocks=20, seed=3)
    ids = {w["id"] for w in chosen}
    assert counts["excluded"] == {"used": 2, "exact": 1, "near_duplicates": 2}
    assert not ids & {"a-000", "a-001", "a-near"}
    assert counts["available"] == {"a": 28, "b": 30, "c": 9}
    assert counts["fully_balanced_blocks"] == 4 and counts["per_block"][0] == {"a": 2, "b": 3, "c": 2}
    assert counts["per_block"][4]["c"] == 1  # c's last window; then blocks are balanced over a and b
    assert all(q["c"] == 0 and is_balanced(q, ["a", "b"]) for q in counts["per_block"][5:])
    assert counts["blocks"] == 9 == len(chosen) // 7  # 67 windows: 9 full blocks of 7
    again, _ = select_new_real(list(reversed(windows + [near])), used, block_size=7, max_blocks=20, seed=3)
    assert [w["id"] for w in again] == [w["id"] for w in chosen]  # independent of the input order
    other, _ = select_new_real(windows + [near], used, block_size=7, max_blocks=20, seed=4)
    assert [w["id"] for w in other] != [w["id"] for w in chosen]
    assert select_new_real(windows, used, block_size=7, max_blocks=2)[1]["blocks"] == 2


def test_freeze_on_fixtures_is_reproducible(tmp_path):
    tech = tmp_path / "tech"
    build_corpus(tech, FIXTURE_SOURCES, CorpusParams(n_contexts=6, n_heldout=2, vocab_size=400), progress=False,
                 prompts_file=None)
    kw = dict(tech_dir=tech, sources=FIXTURE_SOURCES, block_size=4, max_blocks=5, progress=False)
    m1 = freeze_new_real(tmp_path / "a", **kw)
    freeze_new_real(tmp_path / "b", **kw)
    for name in (WINDOWS, "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    rows = load_new_real(0, m1["counts"]["blocks"], directory=tmp_path / "a")
    used = read_jsonl(tech / "contexts.jsonl") + read_jsonl(tech / "heldout.jsonl")
    assert rows and not {r["content_hash"] for r in rows} & {u["content_hash"] for u in used}
    with open(tech / "heldout.jsonl", "a", encoding="utf-8") as f:  # the TECH folder no longer verifies
        f.write("\n")
    with pytest.raises(ValueError, match="heldout.jsonl: SHA-256 differs"):
        freeze_new_real(tmp_path / "c", **kw)


def test_freeze_refuses_a_rebuild_that_differs(tmp_path):
    html = tmp_path / "html"
    shutil.copytree(FIXTURES, html)
    sources = tuple(Source(s.name, s.package, s.licence, str(html / s.name), s.patterns) for s in FIXTURE_SOURCES)
    tech = tmp_path / "tech"
    build_corpus(tech, sources, CorpusParams(n_contexts=6, n_heldout=2, vocab_size=400), progress=False,
                 prompts_file=None)
    page = html / "beta" / "mdbook_page.html"  # the documentation changed since the TECH build
    page.write_text(page.read_text(encoding="utf-8").replace("</p>", " Another sentence was added to it.</p>", 1),
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"rebuild differs from the frozen TECH assets in .*build_stats.json"):
        freeze_new_real(tmp_path / "out", tech_dir=tech, sources=sources, block_size=4, max_blocks=5, progress=False)
    assert not (tmp_path / "out").exists()
