"""The report opens in a real browser (headless Chromium) and shows content."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def test_screenshot_shows_the_report(rendered, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "no Chromium found (/usr/bin/chromium or chromium on PATH); "
            "install it with: apt-get install -y chromium"
        )
    shot = tmp_path / "report.png"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        (rendered / "index.html").as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.is_file(), proc.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a blank page is a few KB

    import numpy as np
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        rgb = np.asarray(image.convert("RGB"), dtype=np.int32)
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    assert len(colours) > 500  # text, charts, colour scales: not a blank or one-colour page
    brightness = rgb.sum(axis=2) / 3
    # The dark header band is at the top, the page below it is mostly light.
    assert brightness[:40].mean() < 100
    assert (brightness[300:] > 200).mean() > 0.5
    # Ink in every 200-pixel band of the first screen (no half-rendered, empty page).
    for top in range(200, 2000, 200):
        band = brightness[top : top + 200]
        assert (band < 128).mean() > 0.002, top
    # Keep a copy next to the rendered report for a human to look at.
    shutil.copyfile(shot, rendered.parent / "screenshot.png")
