"""Quiet, predictable PyTensor: called before any model is built or compiled.

Two kinds of noise reach users of a pip-installed PyTensor on every compile, and
neither changes results:

- "PyTensor could not link to a BLAS installation": pip's NumPy/SciPy ship OpenBLAS
  with prefixed symbol names PyTensor's C code cannot link to. For this model it does
  not matter: it is elementwise work plus small products, nutpie's numba backend never
  uses PyTensor's C BLAS, and a real BLAS gained ~10-15% on C-backend logp evaluations
  only (measured; see benchmarks/RESULTS.md). A user who configured ``blas__ldflags``
  (environment or ``.pytensorrc``) still sees every message.
- "Rewrite failure due to: local_subtensor_merge ... OverflowError": a NumPy-2 bug in
  one graph rewrite of PyTensor 2.38 for vectors longer than 127; the rewrite is skipped
  and results are correct. Only that burst is dropped; other rewrite failures still show.
"""

from __future__ import annotations

import logging
import warnings

_DONE = False


class _DropKnownRewriteNoise(logging.Filter):
    """Drop the four-record burst of the known ``local_subtensor_merge`` failure."""

    def __init__(self) -> None:
        super().__init__()
        self._dropping = 0

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if msg.startswith("Rewrite failure due to: local_subtensor_merge"):
            self._dropping = 3
            return False
        if self._dropping:
            self._dropping -= 1
            return False
        return True


class _DropPrefix(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self._prefix)


def configure_pytensor() -> None:
    """Install the message filters once per process (idempotent)."""
    global _DONE
    if _DONE:
        return
    import pytensor  # BLAS detection is lazy: it has not run yet

    try:
        pytensor.config.fetch_val_for_key("blas__ldflags")
    except KeyError:
        warnings.filterwarnings(
            "ignore",
            message=r"PyTensor could not link to a BLAS installation",
            category=UserWarning,
        )
        logging.getLogger("pytensor.tensor.blas").addFilter(
            _DropPrefix("Using NumPy C-API based implementation for BLAS functions")
        )
    logging.getLogger("pytensor.graph.rewriting.basic").addFilter(_DropKnownRewriteNoise())
    _DONE = True
