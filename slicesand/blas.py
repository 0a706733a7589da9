"""BLAS on one thread, so the last bits of every sum do not depend on the machine.

How OpenBLAS splits a matrix product between its threads changes the order of the additions, so the
same product gives other last bits on 1 and on 2 cores (a 60 x 14k slicing already does). The slicing,
the bootstrap and the stability check run their products inside :func:`one_blas_thread`: their
numbers are the same on any machine. The products are many and small, so OpenBLAS's threads would cost
more CPU than they save; the bootstrap spreads its draws over the cores itself. The ``slicesand``
command goes further and starts OpenBLAS with one thread (``OPENBLAS_NUM_THREADS=1`` unless set;
:mod:`slicesand.__main__`), so no pool of idle threads spins beside the run.

>>> import numpy as np
>>> with one_blas_thread():
...     float(np.ones(3) @ np.ones(3))
3.0
"""

from __future__ import annotations


def one_blas_thread():
    """A context in which BLAS (numpy's OpenBLAS) runs on one thread (:mod:`threadpoolctl`). Nested
    contexts are fine; two threads must not enter and leave it in turn (each restores what it found).
    An environment installed before threadpoolctl became a dependency runs as before (BLAS as it is)
    rather than failing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a stale install; `pip install -e .` brings it
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
