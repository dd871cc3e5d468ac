"""Our Vendi score and RankMe against the packages users would pick (issue 12, item 5).

* Vendi: equal to ``vendi_score.vendi.score_dual`` (and ``score_X``) of the ``vendi-score``
  package on the same embeddings.
* RankMe: ours is Garrido et al.'s (uncentred singular values). reptrix centres the features
  *and* feeds the squared singular values (PCA explained-variance ratios) to the entropy. After
  the same centring ours equals reptrix's entropy on the centred singular values; reptrix's own
  number is the entropy of their squares. Both facts are pinned below.
"""
import numpy as np
import pytest

from sigma_lib.maths.signals import rankme, vendi_score

vendi = pytest.importorskip("vendi_score.vendi")
reptrix_rankme = pytest.importorskip("reptrix.rankme")
reptrix_utils = pytest.importorskip("reptrix.utils")


def embeddings(N, d, seed=0):
    """Anisotropic embeddings with a common offset (a mean direction, as sentence encoders give)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, d)) * np.logspace(0, -1.5, d) + 0.5 * rng.standard_normal(d)


def entropy_rank(values, eps=1e-7):
    p = values / values.sum() + eps
    return float(np.exp(-np.sum(p * np.log(p))))


SHAPES = [(300, 48), (720, 96), (20, 64)]  # N > d, and N < d


@pytest.mark.parametrize("N, d", SHAPES)
def test_vendi_equals_vendi_score_score_dual(N, d):
    X = embeddings(N, d)
    assert vendi_score(X) == pytest.approx(vendi.score_dual(X), rel=1e-10)
    assert vendi_score(X.astype(np.float32)) == pytest.approx(vendi.score_dual(X.astype(np.float64)), rel=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # vendi-score uses scipy.sparse.csr
@pytest.mark.parametrize("N, d", SHAPES)
def test_vendi_equals_vendi_score_n_by_n_route(N, d):
    X = embeddings(N, d, seed=1)
    assert vendi_score(X) == pytest.approx(vendi.score_X(X), rel=1e-9)


@pytest.mark.parametrize("N, d", SHAPES)
def test_rankme_default_is_garrido_uncentred_singular_values(N, d):
    X = embeddings(N, d, seed=2)
    assert rankme(X) == pytest.approx(entropy_rank(np.linalg.svd(X, compute_uv=False)), rel=1e-9)


@pytest.mark.parametrize("N, d", SHAPES)
def test_rankme_centered_equals_reptrix_entropy_after_the_same_centring(N, d):
    # reptrix's get_eigenspectrum centres the features and returns s_k^2 / sum s^2 (PCA);
    # its square root is proportional to the centred singular values s_k.
    X = embeddings(N, d, seed=3)
    s_centred = np.sqrt(np.clip(reptrix_utils.get_eigenspectrum(X), 0.0, None))
    assert rankme(X, centered=True) == pytest.approx(reptrix_rankme.get_rank(s_centred), rel=1e-9)
    centred = X - X.mean(axis=0)
    assert rankme(X, centered=True) == pytest.approx(rankme(centred), rel=1e-12)


@pytest.mark.parametrize("N, d", SHAPES)
def test_reptrix_rankme_is_the_entropy_of_squared_centred_singular_values(N, d):
    # Why reptrix's number differs from ours even after centring: it squares the spectrum.
    torch = pytest.importorskip("torch")
    X = embeddings(N, d, seed=4)
    theirs = float(reptrix_rankme.get_rankme(torch.from_numpy(X)))
    s_centred = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    assert theirs == pytest.approx(entropy_rank(s_centred**2), rel=1e-8)
    # Squaring concentrates p: reptrix's value is clearly below ours (centred or not) here.
    assert theirs < 0.8 * rankme(X, centered=True)
    assert theirs < 0.8 * rankme(X)


def test_rankme_centered_refuses_identical_rows():
    with pytest.raises(ValueError, match="RankMe is undefined"):
        rankme(np.tile([[1.0, 2.0, 3.0]], (10, 1)), centered=True)
