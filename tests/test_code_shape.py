"""Code a newcomer can read (issue 23): every function of sigma_lib fits in one sitting (at most 80
lines) and takes at most 6 positional parameters (the rest keyword-only, after ``*``); no private
name (``_x``) is imported from another module."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "sigma_lib"
MAX_LINES, MAX_POSITIONAL = 80, 6


def functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def positional(node) -> int:
    args = node.args.posonlyargs + node.args.args
    return len(args) - (1 if args and args[0].arg in ("self", "cls") else 0)


def offenders(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for fn in functions(tree):
        lines = fn.end_lineno - fn.lineno + 1
        if lines > MAX_LINES:
            out.append(f"{path.name}:{fn.lineno} {fn.name} has {lines} lines (at most {MAX_LINES})")
        if positional(fn) > MAX_POSITIONAL:
            out.append(f"{path.name}:{fn.lineno} {fn.name} takes {positional(fn)} positional parameters "
                       f"(at most {MAX_POSITIONAL}; make the rest keyword-only)")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("sigma_lib")):
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            if private:
                out.append(f"{path.name}:{node.lineno} imports private {', '.join(private)} from {node.module}")
    return out


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_functions_are_short_and_take_few_positional_parameters(path):
    assert offenders(path) == []


def test_the_shape_test_catches_a_long_function_and_a_private_import(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    bad = tmp_path / "bad.py"
    bad.write_text(f"from .gram import _private\n\n\ndef long(a, b, c, d, e, f, g):\n{body}\n")
    found = offenders(bad)
    assert any(f"has {MAX_LINES + 1} lines" in f for f in found)
    assert any("7 positional" in f for f in found)
    assert any("imports private _private" in f for f in found)
