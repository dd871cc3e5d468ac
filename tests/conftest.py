import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "sigma", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("sigma")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def random_orthogonal(d: int, rng) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))
