"""numba's first dispatch without scipy.linalg (``lattice_dft._jit_start``, issue 30),
in fresh interpreters: the stand-in is gone afterwards, BLAS code still compiles and the
real scipy.linalg imports as usual."""

import json
import subprocess
import sys
import textwrap


def fresh(code):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_init_skips_scipy_linalg_and_leaves_blas_working():
    got = fresh("""
        import json, sys
        import numpy as np, numba
        from invtoolkit_plugins.lattice_dft import _jit_start
        _jit_start.init()
        after_init = sorted(m for m in sys.modules if m.startswith("scipy.linalg"))

        @numba.njit
        def mv(a, b):
            return np.dot(a, b)

        a, b = np.arange(9.0).reshape(3, 3), np.array([1.0, -2.0, 0.5])
        import scipy.linalg
        print(json.dumps({"after_init": after_init, "dot": mv(a, b).tolist(), "numpy": (a @ b).tolist(),
                          "blas": scipy.linalg.cython_blas.__name__, "file": hasattr(scipy.linalg.cython_blas, "__file__")}))
    """)
    assert got["after_init"] == []
    assert got["dot"] == got["numpy"]
    assert got["blas"] == "scipy.linalg.cython_blas" and got["file"]


def test_init_does_nothing_once_scipy_linalg_is_loaded():
    got = fresh("""
        import json, sys
        import scipy.linalg
        blas = sys.modules["scipy.linalg.cython_blas"]
        from invtoolkit_plugins.lattice_dft import _jit_start
        _jit_start.init()
        print(json.dumps({"same": sys.modules["scipy.linalg.cython_blas"] is blas}))
    """)
    assert got == {"same": True}
