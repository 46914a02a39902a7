from __future__ import annotations

from pathlib import Path

import pytest

FILES_DIR = Path(__file__).parent / "files"


@pytest.fixture
def files() -> Path:
    """The folder of fixture files for the customs tests."""
    return FILES_DIR


@pytest.fixture
def write(tmp_path):
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def _write(content: str | bytes, name: str = "customs.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return _write
