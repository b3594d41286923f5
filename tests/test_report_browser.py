"""The HTML audit report opens in a real browser (headless Chromium) with its graph
and tables laid out, and without fetching anything."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.inputs import load_case
from pumpdx.viz.audit import audit_files

from .conftest import CASES_DIR

CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")
# Without the background-networking flags Chromium hangs on a closed network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio")
PROBE = """<script>
(function () {
  var svg = document.querySelector('#reasoning-graph svg');
  var box = svg ? svg.getBBox() : {width: 0, height: 0};
  var rect = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  var result = {
    nodes: document.querySelectorAll('#reasoning-graph svg g.node').length,
    edges: document.querySelectorAll('#reasoning-graph svg g.edge').length,
    bboxWidth: box.width, bboxHeight: box.height, shownWidth: rect.width,
    firingRows: document.querySelectorAll('#firing-table tr').length,
    factRows: document.querySelectorAll('#fact-table tr').length,
    conclusions: document.querySelectorAll('.conclusion').length,
    graphNote: !!document.getElementById('graph-missing'),
    resources: performance.getEntriesByType('resource').length
  };
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
})();
</script>"""


def find_chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def install_chromium() -> str:
    """Chromium's path, installing Debian's package with apt-get if it is missing."""
    found = find_chromium()
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed and there is no apt-get to install it "
                    "(install the 'chromium' package to run the browser test)")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            pytest.skip("Chromium is not installed and installing it needs root "
                        "(run scripts/setup.sh --test as root)")
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = ([*prefix, "apt-get", "update", "-qq"],
             [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"])
    for cmd in steps:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"Chromium could not be installed: {' '.join(cmd)}: {exc}")
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            pytest.skip(f"Chromium could not be installed ({' '.join(cmd)}): {last}")
    found = find_chromium()
    if not found:
        pytest.skip("apt-get installed 'chromium' but no chromium program was found")
    return found


@pytest.fixture(scope="module")
def chromium() -> str:
    return install_chromium()


def test_report_renders_in_chromium(chromium: str, assessor: Assessor, tmp_path: Path) -> None:
    assessments = [assessor.assess(load_case(str(p))) for p in sorted(CASES_DIR.glob("*.yaml"))]
    a = max(assessments, key=lambda x: len(x.trace.firings))
    files = audit_files(a, assessor.kb)
    page = str(files.files["report.html"])
    # The report itself has no script; the probe is added to a copy to read the layout.
    assert "<script" not in page
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")

    done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--dump-dom", probe.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"Chromium printed no page (exit {done.returncode}): {done.stderr[-500:]}"
    result = json.loads(html.unescape(found.group(1)))

    assert result["firingRows"] == len(a.trace.firings) + 1
    assert result["factRows"] == len(a.trace.facts) + 1
    assert result["conclusions"] == len(a.conclusions) + len(a.questions)
    assert result["resources"] == 0, "the report fetched something"
    if "reasoning.svg" in files.files:
        drawn = len(re.findall(r'class="node[" ]', str(files.files["reasoning.svg"])))
        assert result["nodes"] == drawn >= len(a.trace.firings)
        assert result["edges"] > 0
        assert result["bboxWidth"] > 200 and result["bboxHeight"] > 200
        assert result["shownWidth"] > 200
        assert not result["graphNote"]
    else:
        assert result["graphNote"] and result["nodes"] == 0
