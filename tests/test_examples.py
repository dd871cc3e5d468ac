"""The shipped example responses are the committed run they claim to come from (issue 22)."""
from pathlib import Path

import pytest

from sigma_lib.common.records import sha256_file
from sigma_lib.recursion.export import verify_committed_run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {"g0.jsonl": "base/gen_000", "S1-last.jsonl": "S1/gen_005", "S2-last.jsonl": "S2/gen_005"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_is_the_committed_runs_responses(name):
    run = ROOT / "runs" / "real-cpu"
    verify_committed_run(run)
    source = run / EXAMPLES[name] / "responses.jsonl"
    assert sha256_file(ROOT / "examples" / "tech-run" / name) == sha256_file(source), (
        f"examples/tech-run/{name} differs from {source.relative_to(ROOT)}: run `make examples`")
    assert str(source.relative_to(run)) in (ROOT / "examples" / "tech-run" / "README.md").read_text()
