"""experta on Python 3.11: the host's logging is left alone, and a plain `pip install .`
(with experta's frozendict==1.2 pin) works through the compatibility alias."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import CASES_DIR, REPO

LOGGING_PROBE = """
import logging, sys
{setup}
before = [type(h).__name__ for h in logging.getLogger().handlers]
level = logging.getLogger().level
import pumpdx.engine
from pumpdx import assess, load_case
assess(load_case(sys.argv[1]))
after = [type(h).__name__ for h in logging.getLogger().handlers]
assert after == before, (before, after)
assert logging.getLogger().level == level
print("ok")
"""


HOST_LOGGING = "logging.basicConfig(level=logging.WARNING, stream=sys.stdout)"


@pytest.mark.parametrize("setup", ["", HOST_LOGGING],
                         ids=["host-without-logging", "host-with-logging"])
def test_host_logging_is_not_hijacked(setup: str) -> None:
    case = next(iter(sorted(CASES_DIR.glob("*.yaml"))))
    out = subprocess.run([sys.executable, "-c", LOGGING_PROBE.format(setup=setup), str(case)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_collections_alias_makes_frozendict_1_2_importable() -> None:
    """The alias the plain-pip route depends on, without installing anything."""
    import collections

    from pumpdx.engine import compat

    compat._alias_collections()
    assert collections.Mapping is __import__("collections.abc").abc.Mapping  # type: ignore[attr-defined]


@pytest.mark.slow
def test_plain_pip_install_works(tmp_path: Path) -> None:
    """`pip install .` into a fresh venv resolves experta's exact pins (frozendict 1.2,
    schema 0.6.7) and the installed `pumpdx` still assesses a case and runs the demo."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.egg-info", "build", "pumpdx-output", ".*_cache"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    install = subprocess.run([str(py), "-m", "pip", "install", "--quiet",
                              "--disable-pip-version-check", str(src)],
                             capture_output=True, text=True, timeout=600, env=env)
    assert install.returncode == 0, install.stderr[-2000:]
    frozendict = subprocess.run([str(py), "-m", "pip", "show", "frozendict"],
                                capture_output=True, text=True, env=env)
    assert "Version: 1.2" in frozendict.stdout, "expected experta's own frozendict pin"
    pumpdx = env_dir / "bin" / "pumpdx"
    case = CASES_DIR / "maino_fentanyl_overinfusion.yaml"
    out = subprocess.run([str(pumpdx), "assess", str(case), "--json"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert '"suspected_overinfusion"' in out.stdout
    demo = subprocess.run([str(pumpdx), "demo", "--quiet", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    assert len(list((tmp_path / "demo").glob("*/assessment.json"))) == len(
        list(CASES_DIR.glob("*.yaml")))
