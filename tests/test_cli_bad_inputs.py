"""Every bad input of the command line: exit status 2, one line naming the file, nothing written."""
import os

import numpy as np
import pytest

from sigma_lib.apps import cli
from sigma_lib.apps.cli import main


@pytest.fixture
def g0(tmp_path):
    np.save(tmp_path / "g0.npy", np.random.default_rng(0).standard_normal((600, 16)).astype(np.float32))
    return tmp_path / "g0.npy"


def run(argv, capsys):
    code = main([str(x) for x in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code, err, *needles):
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert str(n) in lines[0], (n, lines[0])


def written(folder):
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".csv", ".png", ".tmp") or p.name.startswith("."))


def _bad_npy(tmp_path, g0, case):
    bad = tmp_path / "bad.npy"
    if case == "empty":
        np.save(bad, np.zeros((0, 16), np.float32))
        return bad, ("bad.npy", "holds no embeddings")
    if case == "empty-1d":
        np.save(bad, np.zeros((0,), np.float32))
        return bad, ("bad.npy", "2-D")
    if case == "nan":
        x = np.load(g0).astype(np.float64)
        x[450, 3] = np.nan  # row 450 of the file: row 50 of the fifth chunk of 100
        np.save(bad, x)
        return bad, ("bad.npy", "row 450 (of the whole input)", "nan", "column 3")
    raw = g0.read_bytes()
    if case == "truncated":
        bad.write_bytes(raw[: len(raw) // 2])
    elif case == "corrupt":
        bad.write_bytes(b"not an array at all" * 50)
    elif case == "zero-bytes":
        bad.write_bytes(b"")
    return bad, ("bad.npy", "not a readable .npy file")


@pytest.mark.parametrize("case", ["empty", "empty-1d", "nan", "truncated", "corrupt", "zero-bytes"])
def test_bad_npy_is_refused_with_one_line(tmp_path, g0, capsys, case):
    bad, needles = _bad_npy(tmp_path, g0, case)
    code, _, err = run(["score", g0, bad, "--m", "100", "--n-draws", "3", "--chunk-size", "100", "--csv",
                        tmp_path / "t.csv", "--plot", tmp_path / "p.png", "--quiet"], capsys)
    one_line_error(code, err, *needles)
    assert written(tmp_path) == []


def test_non_utf8_text_is_refused_naming_file_and_line(tmp_path, capsys):
    f = tmp_path / "latin.txt"
    f.write_bytes("first response\ncaf\xe9 au lait\n".encode("latin-1"))
    code, _, err = run(["embed", f, "-o", tmp_path / "e.npy", "--quiet"], capsys)
    one_line_error(code, err, "latin.txt", "line 2", "UTF-8")
    code, _, err = run(["score", f, "--m", "100", "--quiet"], capsys)
    one_line_error(code, err, "latin.txt", "line 2", "UTF-8")
    assert not (tmp_path / "e.npy").exists()


@pytest.mark.parametrize("option", ["--csv", "--plot"])
@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_unwritable_score_outputs_are_refused_before_any_work(tmp_path, g0, capsys, option, where):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "adir" if where == "folder" else tmp_path / "afile" / "out"
    other = "--plot" if option == "--csv" else "--csv"
    code, out, err = run(["score", g0, g0, "--m", "100", "--n-draws", "3", option, target, other,
                          tmp_path / "other.out", "--quiet"], capsys)
    one_line_error(code, err, str(target), option)
    assert out == "" and written(tmp_path) == [] and not (tmp_path / "other.out").exists()


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_unwritable_embed_output_is_refused(tmp_path, capsys, where):
    (tmp_path / "r.txt").write_text("a response\nanother one\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "adir" if where == "folder" else tmp_path / "afile" / "e.npy"
    code, _, err = run(["embed", tmp_path / "r.txt", "-o", target, "--quiet"], capsys)
    one_line_error(code, err, str(target), "embed -o")
    assert not list(tmp_path.glob("*.parts"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_folder_is_refused(tmp_path, g0, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, _, err = run(["score", g0, g0, "--m", "100", "--csv", ro / "t.csv", "--quiet"], capsys)
        one_line_error(code, err, "t.csv", "cannot write")
    finally:
        ro.chmod(0o700)


def test_no_csv_is_left_behind_when_the_plot_fails(tmp_path, g0, capsys, monkeypatch):
    def broken_plot(rows, path=None):
        raise ValueError("the plot could not be drawn")

    monkeypatch.setattr(cli, "drift_plot", broken_plot)
    code, _, err = run(["score", g0, g0, "--m", "100", "--n-draws", "3", "--csv", tmp_path / "t.csv",
                        "--plot", tmp_path / "p.png", "--quiet"], capsys)
    one_line_error(code, err, "could not be drawn")
    assert written(tmp_path) == []


def test_outputs_are_written_all_or_nothing(tmp_path, g0, capsys, monkeypatch):
    """The second file's move fails: the first is rolled back to its previous content."""
    (tmp_path / "t.csv").write_text("old table\n")
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(".png"):
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    code, _, err = run(["score", g0, g0, "--m", "100", "--n-draws", "3", "--csv", tmp_path / "t.csv",
                        "--plot", tmp_path / "p.png", "--quiet"], capsys)
    one_line_error(code, err, "p.png", "No space left")
    assert (tmp_path / "t.csv").read_text() == "old table\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g0.npy", "t.csv"]


def test_help_shows_the_examples(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "Examples::" not in out
    tail = out[out.index("examples:"):]
    assert "sigma embed responses.jsonl -o gen0.npy" in tail and "--dask" in tail
