"""BLAS on one thread, so the last bits of every sum do not depend on the machine.

How OpenBLAS splits a matrix product between its threads changes the order of the additions, so the
same product gives other last bits on 1 and on 2 cores (a 60 x 14k slicing already does). The slicing,
the bootstrap and the stability check run their products inside :func:`one_blas_thread`: their
numbers are the same on any machine. The products are many and small, so OpenBLAS's threads would cost
more CPU than they save; the bootstrap spreads its draws over the cores itself. The ``slicesand``
command goes further and starts OpenBLAS with one thread (``OPENBLAS_NUM_THREADS=1`` unless set;
:func:`one_blas_thread_from_the_start`), so no pool of idle threads spins beside the run.

>>> import numpy as np
>>> with one_blas_thread():
...     float(np.ones(3) @ np.ones(3))
3.0
"""

from __future__ import annotations

import os


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


#: What OpenBLAS reads for its number of threads, first to last: a caller who set one keeps it.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread_from_the_start() -> None:
    """Start OpenBLAS with one thread (unless the caller's environment says otherwise), before numpy or
    scipy load it. Every product slicesand computes runs on one BLAS thread anyway
    (:func:`one_blas_thread`), but OpenBLAS starts its own pool of threads when numpy and scipy load it
    and again whenever :mod:`threadpoolctl` gives it back more than one, and each new thread spins on
    a core for a while before it sleeps: a default ``run`` spent about 0.2 s of CPU that way (seen with
    ``perf``), half of it on the core its figures were being drawn on. Called by the command's own
    process only (:func:`slicesand.__main__.console`), not by :func:`slicesand.__main__.main` in a
    process that goes on: that process's numpy is its own."""
    if not any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
