"""Import rules: propagation never imports PyMC or ArviZ; kernels.py only numpy and numba."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import riskmodel.propagation.kernels as kernels_module


def test_kernels_import_only_numpy_and_numba():
    tree = ast.parse(Path(kernels_module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "math", "typing", "numpy", "numba"}, imported


def test_propagation_does_not_import_pymc_or_arviz():
    code = (
        "import sys, riskmodel.propagation, riskmodel.commands.shortage; "
        "bad = [m for m in ('pymc', 'arviz', 'pytensor') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
