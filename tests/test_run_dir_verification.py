"""The run directory verifies what it reads (issue 11): done.json, the theta_0 cache, the manifest,
and notebook parameters."""
import json
import os

import pytest

from sigma_lib.common.io import atomic_replace_dir, remove_partials
from sigma_lib.common.params import check_notebook_parameters
from sigma_lib.recursion.checkpoint import GenerationWriter, read_done, remove_model
from sigma_lib.recursion.config import run_config
from sigma_lib.recursion.engine import Experiment


def _generation(tmp_path):
    w = GenerationWriter(tmp_path / "gen_001")
    w.jsonl("responses.jsonl", [{"text": "a"}])
    (w.tmp / "model").mkdir()
    (w.tmp / "model" / "weights.bin").write_bytes(b"w")
    w.commit({"U": -1.5, "drift_U": -0.25})
    return tmp_path / "gen_001"


def test_an_edited_done_json_is_caught(tmp_path):
    folder = _generation(tmp_path)
    assert read_done(folder)["metrics"]["U"] == -1.5
    done = json.loads((folder / "done.json").read_text())
    done["metrics"]["U"] = -9.0  # still valid JSON
    (folder / "done.json").write_text(json.dumps(done))
    with pytest.raises(ValueError, match=r"done.json does not match its own digest"):
        read_done(folder)


def test_a_done_json_without_its_files_key_is_named(tmp_path):
    folder = _generation(tmp_path)
    done = json.loads((folder / "done.json").read_text())
    done["hashes"] = done.pop("files")
    (folder / "done.json").write_text(json.dumps(done))
    with pytest.raises(ValueError, match=r"corrupt checkpoint .*gen_001/done.json \(KeyError"):
        read_done(folder)


def test_dropping_the_model_keeps_the_folder_verifiable(tmp_path):
    folder = _generation(tmp_path)
    remove_model(folder)
    assert not (folder / "model").exists()
    assert set(read_done(folder)["files"]) == {"responses.jsonl"}


def test_other_parameters_are_refused_before_theta0_is_trained(tmp_path):
    run_dir, cache = tmp_path / "run", tmp_path / "cache"
    run_dir.mkdir()
    cfg = run_config("smoke")
    (run_dir / "manifest.json").write_text(json.dumps({"config": cfg.replace(seed=1).as_dict(), "assets": {},
                                                       "versions": {}}))
    with pytest.raises(ValueError, match="holds a run made with other"):
        Experiment(cfg, run_dir, cache, progress=False)
    assert not cache.exists() or not any(cache.iterdir())  # no theta_0 trained for nothing


def test_partial_folders_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / "theta0-x.partial-999999999"
    dead.mkdir()
    live = tmp_path / f"theta0-y.partial-{os.getppid()}"
    live.mkdir()
    assert remove_partials(tmp_path) == [dead]
    assert live.exists()


def test_a_failing_fill_leaves_no_folder(tmp_path):
    def fill(tmp):
        (tmp / "half").write_text("x")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_replace_dir(tmp_path / "out", fill)
    assert list(tmp_path.iterdir()) == []


def test_a_misspelled_notebook_parameter_fails_naming_it():
    import numpy as np

    namespace = {"profile": "test", "output_dir": "x", "settings": "S2", "np": np, "In": [], "_": None}
    with pytest.raises(ValueError,
                       match=r"recursion: unknown parameter\(s\) 'settings'; it takes output_dir, profile, setting"):
        check_notebook_parameters(namespace, ["profile", "output_dir", "setting"], "recursion")
    check_notebook_parameters({"profile": "test", "np": np}, ["profile", "output_dir"], "recursion")


def test_a_reader_chapter_names_the_missing_run(tmp_path):
    from sigma_lib.report.run_report import require_run

    with pytest.raises(FileNotFoundError, match="execute notebooks/recursion.ipynb first"):
        require_run(tmp_path / "run")


def test_only_the_recursion_chapter_can_start_the_engine():
    """No notebook but the recursion chapter, and no module of the report layer, reaches the engine."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        source = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
        starts = [w for w in ("run_experiment", "Experiment(", "ensure_run", "recursion.engine") if w in source]
        assert nb.name == "recursion.ipynb" or not starts, f"{nb.name} can start the engine: {starts}"
    modules = sorted((root / "sigma_lib" / "report").glob("*.py"))
    assert len(modules) >= 4
    for path in modules:
        tree = ast.parse(path.read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m.endswith("engine") for m in imported), f"{path.relative_to(root)} imports the engine"


def test_every_chapter_checks_its_parameters_first():
    """Each notebook's first code cell after its parameters calls check_notebook_parameters with exactly
    the names its parameter cell defines, so a misspelled `papermill -p` fails the chapter at once."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 8
    for nb in notebooks:
        cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
        params = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
        declared = [n.targets[0].id for n in ast.parse("".join(params["source"])).body if isinstance(n, ast.Assign)]
        first = next(c for c in cells[cells.index(params) + 1:]
                     if "injected-parameters" not in c["metadata"].get("tags", []))
        source = "".join(first["source"])
        calls = [n for n in ast.walk(ast.parse(source.replace("%matplotlib inline", "")))
                 if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "check_notebook_parameters"]
        assert calls, f"{nb.name}: its setup cell does not call check_notebook_parameters"
        assert sorted(ast.literal_eval(calls[0].args[1])) == sorted(declared), (
            f"{nb.name}: checked names differ from its parameters")
