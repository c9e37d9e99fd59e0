import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def square_pore(n=20, size=12):
    g = np.zeros((n, n), np.uint8)
    a = (n - size) // 2
    g[a : a + size, a : a + size] = 1
    return g
