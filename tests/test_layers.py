"""The package's layers import one way only (issue 11): common <- maths <- corpus <- recursion <- report <- apps.

A module may import its own package and any lower layer, never a higher one, at module level or
inside a function. The facade ``sigma_lib/__init__.py`` re-exports the maths only.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "sigma_lib"
LAYERS = ["common", "maths", "corpus", "recursion", "report", "apps"]
RANK = {name: i for i, name in enumerate(LAYERS)}
# Root modules: the version string sits below everything, the facade just above the maths it re-exports,
# `python -m sigma_lib` above the apps.
ROOT_RANK = {"_version": -1, "__init__": RANK["maths"] + 0.5, "__main__": len(LAYERS)}


def layer_of(module: str) -> tuple[str, int]:
    """``("maths", 1)`` for ``sigma_lib.maths.gram``; a root module gets its :data:`ROOT_RANK`."""
    parts = module.split(".")
    assert parts[0] == "sigma_lib", module
    if len(parts) == 1:
        return "__init__", ROOT_RANK["__init__"]
    if parts[1] in RANK:
        return parts[1], RANK[parts[1]]
    if parts[1] in ROOT_RANK:
        return parts[1], ROOT_RANK[parts[1]]
    raise AssertionError(f"{module} is in no layer: put it in one of {LAYERS}")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    return ".".join(rel.parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every ``sigma_lib`` module ``path`` imports (absolute names), with line numbers."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        package = name.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "sigma_lib"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "sigma_lib":
                continue
            if node.module is None or target in ("sigma_lib",) + tuple(f"sigma_lib.{layer}" for layer in LAYERS):
                # `from . import x` / `from sigma_lib.maths import simulation`: the names may be modules
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return found


def all_modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "data" not in p.relative_to(ROOT).parts)


def test_every_module_is_in_a_layer():
    for path in all_modules():
        layer_of(module_name(path).removesuffix(".__init__"))


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    here = module_name(path).removesuffix(".__init__")
    layer, rank = layer_of(here)
    for lineno, target in imports_of(path):
        if target == "sigma_lib._version" or target.startswith("sigma_lib._version."):
            continue
        other, other_rank = layer_of(target if target.split(".")[1:2] != ["__init__"] else "sigma_lib")
        if here == "sigma_lib" and target.count(".") == 1 and target.split(".")[1] not in RANK:
            # the facade naming a name of its own (e.g. `from sigma_lib import __version__`)
            continue
        assert other_rank < rank or other == layer, (
            f"{path.relative_to(ROOT.parent)}:{lineno} imports {target} ({other}, layer {other_rank}) "
            f"from layer {layer} ({rank}): imports must point down {' <- '.join(LAYERS)}")


def test_the_layer_test_catches_an_upward_import(tmp_path, monkeypatch):
    """The check above fails on a maths module importing the report layer (so it can fail at all)."""
    bad = ROOT / "maths" / "gram.py"
    fake = tmp_path / "sigma_lib" / "maths" / "gram.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(bad.read_text() + "\nfrom ..report import book  # an upward import\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path / "sigma_lib")
    with pytest.raises(AssertionError, match="imports sigma_lib.report.book"):
        test_imports_point_down(fake)


def test_the_maths_imports_nothing_heavy():
    """The maths layer runs on NumPy/SciPy alone: no torch, transformers or pandas at module level."""
    heavy = {"torch", "transformers", "sentence_transformers", "pandas", "matplotlib"}
    for path in sorted((ROOT / "maths").glob("*.py")):
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = {a.name.split(".")[0] for n in top if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in top if isinstance(n, ast.ImportFrom) and not n.level}
        assert not names & heavy, f"{path.name} imports {sorted(names & heavy)} at module level"
