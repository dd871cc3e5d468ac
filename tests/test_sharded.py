"""Sharded scoring: shards map to partial Grams, a fixed tree sums them; a 2-worker Dask cluster
gives the single-process numbers."""
import csv
import json

import numpy as np
import pytest

from sigma_lib.apps.cli import main
from sigma_lib.apps.sharded import list_shards, sharded_partial, sharded_tracks, tracks_from_partial, tree_sum
from sigma_lib.maths.noise import bootstrap_index_sets, tracks_over_index_sets
from sigma_lib.maths.observed import select_observed_indices

SIZES = (250, 170, 300, 80)
D = 16


def _corpus(rng, contraction=1.0):
    X = rng.standard_normal((sum(SIZES), D))
    X[:, D // 2:] *= contraction
    return X


def _write_npy_shards(folder, X):
    folder.mkdir()
    start = 0
    for k, n in enumerate(SIZES):
        np.save(folder / f"part-{k:03d}.npy", X[start : start + n].astype(np.float32))
        start += n


def _sets(N, m=300, n_draws=6, seed=0):
    return [select_observed_indices(N, m, seed), *bootstrap_index_sets(N, m, n_draws, seed + 1)]


@pytest.fixture(scope="module")
def cluster():
    from sigma_lib.apps.sharded import local_cluster

    client = local_cluster(n_workers=2, threads_per_worker=1, processes=True)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def test_tree_sum_association_depends_on_the_count_only():
    leaves = list("abcdefg")
    shape = tree_sum(leaves, lambda x: x, lambda a, b: f"({a}{b})")
    assert shape == "(((ab)(cd))((ef)g))"


def test_shards_equal_one_file_and_a_two_worker_cluster_equals_one_process(tmp_path, cluster):
    X = _corpus(np.random.default_rng(0))
    _write_npy_shards(tmp_path / "g0", X)
    N = X.shape[0]
    sets = _sets(N)
    local = sharded_tracks(tmp_path / "g0", sets)
    on_cluster = sharded_tracks(tmp_path / "g0", sets, scheduler=cluster)
    np.testing.assert_allclose(on_cluster.U, local.U, rtol=1e-12, atol=0)
    np.testing.assert_allclose(on_cluster.gamma_kf, local.gamma_kf, rtol=1e-12, atol=0)
    # the cluster's tree is fixed by the shard order: the same bits on 1 worker and on 2
    one_worker = sharded_tracks(tmp_path / "g0", sets, scheduler="sync")
    assert (on_cluster.U == one_worker.U).all() and (on_cluster.gamma_kf == one_worker.gamma_kf).all()
    one_file = tracks_over_index_sets([X.astype(np.float32)], sets, N)
    np.testing.assert_allclose(local.U, one_file.U, rtol=1e-10)
    np.testing.assert_allclose(local.gamma_kf, one_file.gamma_kf, rtol=1e-10)
    # row ranges of the files (several tasks per file) sum to the same
    ranged = sharded_tracks(tmp_path / "g0", sets, rows_per_shard=64, scheduler=cluster)
    np.testing.assert_allclose(ranged.U, local.U, rtol=1e-12)


def test_jsonl_embedding_shards_and_glob_patterns(tmp_path):
    X = _corpus(np.random.default_rng(1))
    folder = tmp_path / "jsonl"
    folder.mkdir()
    start = 0
    for k, n in enumerate(SIZES):
        with open(folder / f"part-{k}.jsonl", "w") as f:
            for row in X[start : start + n]:
                f.write(json.dumps({"embedding": row.tolist(), "id": start}) + "\n")
        start += n
    shards = list_shards(str(folder / "part-*.jsonl"))
    assert [s.kind for s in shards] == ["jsonl-emb"] * 4 and [s.start for s in shards] == [0, 250, 420, 720]
    sets = _sets(X.shape[0])
    got = tracks_from_partial(sharded_partial(shards, sets), sets, X.shape[0])
    ref = tracks_over_index_sets([X], sets, X.shape[0])
    np.testing.assert_allclose(got.U, ref.U, rtol=1e-10)


def test_parquet_embedding_shards(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    X = _corpus(np.random.default_rng(2))
    folder = tmp_path / "pq"
    folder.mkdir()
    start = 0
    for k, n in enumerate(SIZES):
        pq.write_table(pa.table({"embedding": [r.tolist() for r in X[start : start + n]]}), folder / f"p{k}.parquet")
        start += n
    sets = _sets(X.shape[0])
    got = sharded_tracks(folder, sets)
    np.testing.assert_allclose(got.U, tracks_over_index_sets([X], sets, X.shape[0]).U, rtol=1e-10)


def test_nan_in_a_later_shard_names_the_file_and_the_global_row(tmp_path, capsys):
    X = _corpus(np.random.default_rng(3))
    X[420 + 7, 2] = np.nan  # row 7 of the third shard
    _write_npy_shards(tmp_path / "g0", X)
    assert main(["score", str(tmp_path / "g0"), "--m", "300", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "part-002.npy: row 427 (of the whole input)" in err and len(err.strip().splitlines()) == 1


def test_cli_dask_gives_the_local_table(tmp_path, capsys):
    rng = np.random.default_rng(4)
    _write_npy_shards(tmp_path / "g0", _corpus(rng))
    _write_npy_shards(tmp_path / "g1", _corpus(rng, contraction=0.3))
    tables = []
    for extra in ([], ["--dask", "local:2"]):
        path = tmp_path / f"t{len(extra)}.csv"
        assert main(["score", str(tmp_path / "g0"), str(tmp_path / "g1"), "--m", "300", "--n-draws", "6",
                     "--csv", str(path), "--quiet", *extra]) == 0, capsys.readouterr().err
        tables.append(list(csv.DictReader(open(path))))
    for local, dask in zip(*tables, strict=True):
        assert local.keys() == dask.keys() and local["checkpoint"] == dask["checkpoint"]
        for key in ("U", "gamma_kf", "drift_U", "noise_U", "drift_gamma_kf", "noise_gamma_kf"):
            assert float(dask[key]) == pytest.approx(float(local[key]), rel=1e-12, abs=1e-12), key
    assert float(tables[0][1]["drift_U"]) < -5 * float(tables[0][1]["noise_U"])


def test_text_shards_are_embedded_where_the_shard_is_computed(tmp_path, monkeypatch):
    from sigma_fakes import HashEncoder

    import sigma_lib.apps.sharded as sharded

    monkeypatch.setitem(sharded._ENCODERS, (None, "cpu"), HashEncoder(dim=8))
    rng = np.random.default_rng(5)
    words = "index query table cache thread lock memory pointer compiler kernel".split()
    texts = [" ".join(rng.choice(words, size=6)) + f" {i}" for i in range(90)]
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts[:40]))
    (folder / "b.txt").write_text("\n".join(texts[40:]) + "\n")
    shards = list_shards(folder)
    assert [(s.kind, s.start, s.rows) for s in shards] == [("texts", 0, 40), ("texts", 40, 50)]
    sets = _sets(90, m=30, n_draws=4)
    here = tracks_from_partial(sharded_partial(shards, sets), sets, 90)
    graph = tracks_from_partial(sharded_partial(shards, sets, scheduler="sync"), sets, 90)
    ref = tracks_over_index_sets([HashEncoder(dim=8).encode(texts)], sets, 90)
    np.testing.assert_allclose(here.U, ref.U, rtol=1e-12)
    np.testing.assert_allclose(graph.U, here.U, rtol=1e-12)
