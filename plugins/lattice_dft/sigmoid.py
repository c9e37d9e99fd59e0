"""Vectorisable float32 and float64 sigmoids, shared by the 2-D and 3-D numba kernels.

``math.exp`` is a libm call LLVM does not vectorise, so exp is written out (range
reduction by the magic-number trick + polynomial).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["sigmoid32", "sigmoid64", "X_MAX32", "FASTMATH"]

FASTMATH = _FM = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}  # fastmath without reassoc

# ---------------------------------------------------------------- float32 exp
_F32 = np.float32
_LOG2E32 = _F32(1.4426950408889634)
_ONE32 = _F32(1.0)
X_MAX32 = 80.0        # largest x the float32 sigmoid handles without a clamp
_ZHI32 = _F32(87.0)
_MAGIC32 = _F32(12582912.0)                 # 1.5*2**23: adding it rounds to an integer
_EXPB32 = np.int32(127 - 0x4B400000)        # exponent bias minus the magic's bit pattern
# one-constant range reduction: float32(ln 2) is within 1.9e-9 of ln 2, so f = z - n ln2
# is off by <= |n| 1.9e-9 (<= 1e-8 for |x| <= 3, where the sigmoid's slope is large; at
# |x| ~ 87 the sigmoid is 0 or 1 to 1e-37 anyway): one FMA less than Cody-Waite's pair
_LN2_32 = _F32(0.6931471805599453)
# e**f ~ 1 + f + f**2 * Q(f) on |f| <= ln2/2, Q of degree 4 fitted for minimal max
# relative error (3e-9, iteratively reweighted least squares on Chebyshev nodes): as
# accurate in float32 as Cephes' degree-5 Q (both ~6e-8 = 1 ulp), one FMA less
_P1_32 = _F32(0.0013814539710440912)
_P2_32 = _F32(0.008368745315496836)
_P3_32 = _F32(0.04166839080532465)
_P4_32 = _F32(0.16666520397208978)
_P5_32 = _F32(0.4999999343199474)

# ---------------------------------------------------------------- float64 exp
_LOG2E64 = 1.4426950408889634
_ZLO64 = -700.0
_ZHI64 = 700.0
_C1_64 = 6.93145751953125e-1
_C2_64 = 1.42860682030941723212e-6
_T = [1.0 / math.factorial(k) for k in range(13)]
_T2, _T3, _T4, _T5, _T6, _T7 = _T[2], _T[3], _T[4], _T[5], _T[6], _T[7]
_T8, _T9, _T10, _T11, _T12 = _T[8], _T[9], _T[10], _T[11], _T[12]


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def sigmoid32(x):
    """1/(1+exp(-x)) in float32, vectorisable (about 1-2 ulp), for x <= X_MAX32.

    Only the lower end of x needs a clamp (wall cells, RH = 0); ``solve`` checks that
    x = beta*mu + beta*w_ff*(sum of neighbours + y*solid ones) <= X_MAX32 (it is <= 9
    with the default constants) and uses the float64 kernel otherwise.
    """
    z = -x
    z = min(z, _ZHI32)
    # n = round(z/ln2) by the magic-number trick: t's low mantissa bits hold n, so
    # 2**n needs no float->int conversion and no separate rounding instruction
    t = z * _LOG2E32 + _MAGIC32
    n = t - _MAGIC32
    f = z - n * _LN2_32
    p = _P1_32 * f + _P2_32
    p = p * f + _P3_32
    p = p * f + _P4_32
    p = p * f + _P5_32
    e = (p * f + _ONE32) * f + _ONE32     # 1 + f + f**2 p in two FMAs
    sc = np.int32((np.float32(t).view(np.int32) + _EXPB32) << np.int32(23)).view(np.float32)
    return _ONE32 / (_ONE32 + e * sc)


@njit(fastmath=_FM, error_model="numpy", cache=True, inline="always")
def sigmoid64(x):
    """1/(1+exp(-x)) in float64, vectorisable (a few ulp)."""
    z = -x
    z = min(max(z, _ZLO64), _ZHI64)
    n = np.floor(z * _LOG2E64 + 0.5)
    f = z - n * _C1_64
    f = f - n * _C2_64
    p = _T12 * f + _T11
    p = p * f + _T10
    p = p * f + _T9
    p = p * f + _T8
    p = p * f + _T7
    p = p * f + _T6
    p = p * f + _T5
    p = p * f + _T4
    p = p * f + _T3
    p = p * f + _T2
    e = p * f * f + f + 1.0
    sc = np.int64((np.int64(n) + np.int64(1023)) << np.int64(52)).view(np.float64)
    return 1.0 / (1.0 + e * sc)
