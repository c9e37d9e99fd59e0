"""``check_grids``: its one-pass check of unsigned grids (issue 30) accepts and refuses
exactly what the plain definition does: every value 0 or 1, a pore in every grid."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invtoolkit.errors import InputError
from invtoolkit.parsing.io import check_grids


def plain_verdict(a):
    """None when valid, else the kind of error, from the definition."""
    if not np.all((a == 0) | (a == 1)):
        return "binary"
    if (a.reshape(len(a), -1) != 0).sum(1).min() == 0:
        return "no pore"
    return None


@settings(max_examples=200, deadline=None)
@given(dtype=st.sampled_from(["uint8", "uint16", "bool", "int8", "int64", "float32"]),
       n=st.integers(1, 4), values=st.lists(st.integers(-1, 3), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_fast_check_agrees_with_the_definition(dtype, n, values, seed):
    rng = np.random.default_rng(seed)
    raw = rng.choice(values, size=(n, 3, 4))
    if dtype == "bool" or dtype.startswith("uint"):
        raw = np.abs(raw)
    a = raw.astype(dtype)
    want = plain_verdict(a)
    if want is None:
        out = check_grids(a)
        assert out.dtype == np.uint8 and out.flags.c_contiguous and np.array_equal(out, a.astype(np.uint8))
    else:
        match = "must be binary" if want == "binary" else "has no pore cell"
        with pytest.raises(InputError, match=match):
            check_grids(a)


def test_the_messages_name_the_value_and_the_grid():
    a = np.ones((3, 3, 3), np.uint8)
    a[1, 2, 2] = 7
    with pytest.raises(InputError, match="found value 7"):
        check_grids(a)
    a[1] = 0
    with pytest.raises(InputError, match="grid 1 has no pore cell"):
        check_grids(a)


def test_an_empty_batch_is_allowed_when_asked():
    assert check_grids(np.zeros((0, 3, 3), np.uint8), allow_empty=True).shape == (0, 3, 3)
