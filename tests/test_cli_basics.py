import subprocess
import sys

from riskmodel import __version__
from riskmodel.cli import main


def test_version_flag(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_option_exits_2():
    proc = subprocess.run(
        [sys.executable, "-m", "riskmodel", "--no-such-flag"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
