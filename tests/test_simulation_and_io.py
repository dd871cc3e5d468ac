import csv

import numpy as np
import pytest

from sigma_lib.common.io import atomic_write_text, write_csv
from sigma_lib.maths import simulation as sim


def test_theorem_parameters_profiles_and_overrides():
    p = sim.theorem_parameters("test", seed=5)
    assert p["seed"] == 5 and p["coverage_reps"] == sim.THEOREM_PROFILES["test"]["coverage_reps"]
    assert sim.theorem_parameters("default")["coverage_grid"][2] == (384, 512, 4096)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(profile="huge"), "unknown profile"),
        (dict(nonsense=1), "unknown parameter 'nonsense'"),
        (dict(seed="one"), "seed must be an integer"),
        (dict(seed=-1), "seed must be an integer >= 0"),
        (dict(coverage_reps=1), "coverage_reps must be an integer >= 2"),
        (dict(coverage_reps=True), "coverage_reps must be an integer"),
        (dict(coverage_grid=[(64, 64, 100)]), "0 < d < m <= N"),
        (dict(half_widths=[0.0]), "half_widths"),
    ],
)
def test_theorem_parameters_errors(kwargs, message):
    profile = kwargs.pop("profile", "test")
    with pytest.raises(ValueError, match=message):
        sim.theorem_parameters(profile, **kwargs)


def test_draw_columns_kinds(rng):
    assert sim.draw_columns("gaussian", rng, 5, 3).shape == (5, 3)
    np.testing.assert_allclose(np.linalg.norm(sim.draw_columns("unit_gaussian", rng, 5, 3), axis=1), 1.0)
    with pytest.raises(ValueError, match="unknown kind"):
        sim.draw_columns("cauchy", rng, 5, 3)
    with pytest.raises(ValueError, match="unknown kind"):
        sim.adversarial_case("cauchy", rng, 4)


def test_estimator_study_is_seeded_and_shaped():
    a, errs = sim.estimator_study([(4, 40, 400), (4, 80, 400)], reps=5, seed=3)
    b, _ = sim.estimator_study([(4, 40, 400), (4, 80, 400)], reps=5, seed=3)
    assert a == b and len(a) == 2 and len(errs) == 10
    with pytest.raises(ValueError, match="violates"):
        sim.estimator_study([(8, 8, 100)], reps=2)


def test_write_csv_roundtrip_is_exact(tmp_path):
    rows = [dict(a=1, b=0.1 + 0.2, c="x"), dict(a=2, b=1e-300, c="y")]
    path = write_csv(rows, tmp_path / "sub" / "t.csv")
    back = list(csv.DictReader(open(path)))
    assert float(back[0]["b"]) == 0.1 + 0.2 and float(back[1]["b"]) == 1e-300
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["t.csv"]  # no temporary left
    with pytest.raises(ValueError, match="no rows"):
        write_csv([], tmp_path / "empty.csv")


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
