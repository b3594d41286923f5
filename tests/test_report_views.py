"""The report's audit views: why-not for the entered algorithms, the graph's zoom and
path filter, firing nodes linked to their rows, the rulebook map linked and written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.engine.assess import Assessor
from pumpdx.engine.explain import explainer_for
from pumpdx.engine.inputs import load_case
from pumpdx.kb.review_order import algorithm_order
from pumpdx.viz.audit import audit_files
from pumpdx.viz.graph import path_class
from pumpdx.viz.rulebook_dot import rulebook_dot

from .conftest import CASES_DIR

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is missing")
MAINO = CASES_DIR / "maino_fentanyl_overinfusion.yaml"


def test_review_order_puts_triage_first_and_the_steps_in_order(kb: object) -> None:
    order = algorithm_order(kb)  # type: ignore[arg-type]
    assert order[:3] == ["triage", "bedside_assessment", "volume_reconciliation"]
    assert order.index("overdose_withdrawal") < order.index("loss_of_therapy")
    assert order[-1] == "trial_planning"


def test_rulebook_map_declares_the_boxes_in_the_review_order(assessor: Assessor) -> None:
    dot = rulebook_dot(assessor.kb)
    boxes = re.findall(r'subgraph "cluster_([a-z_]+)"', dot)
    assert boxes == algorithm_order(assessor.kb)


@needs_dot
def test_report_offers_why_not_for_every_entered_algorithm(assessor: Assessor) -> None:
    a = assessor.assess(load_case(str(MAINO)))
    page = str(audit_files(a, assessor.kb).files["report.html"])
    missing = explainer_for(assessor.kb).not_concluded(a)
    for algorithm, concepts in missing.items():
        for concept in concepts:
            assert f'id="whynot-{concept}"' in page, (algorithm, concept)
    assert "titrated_naloxone" not in {c for cs in missing.values() for c in cs}
    assert 'id="rulebook-link"' not in page  # a report alone has no map next to it
    section = page[page.index('id="why-not"'):page.index('id="facts"')]
    assert "finding not entered" in section and "ow_withdrawal_refill" in section


@needs_dot
def test_graph_zoom_filter_and_links(assessor: Assessor) -> None:
    a = assessor.assess(load_case(str(MAINO)))
    files = audit_files(a, assessor.kb)
    page = str(files.files["report.html"])
    svg = bytes(files.files["reasoning.svg"]).decode("utf-8")
    assert "<script" not in page
    for zoom in ("fit", "50", "100", "200"):
        assert f'id="gv-zoom-{zoom}"' in page
    for f in a.trace.firings:
        assert f'xlink:href="#firing-{f.seq}"' in svg and f'id="firing-{f.seq}"' in page
    # the path of titrated_naloxone: its firing and what that matched, not the lab rule
    cls = path_class("titrated_naloxone")
    assert f'id="gv-path-{cls}"' in page and f":not(.{cls})" in page
    titled = {t for c, t in re.findall(
        r'<g id="[^"]+" class="node ([^"]*)">\s*<title>([^<]*)</title>', svg)
        if cls in c.split()}
    assert titled
    naloxone = next(f for f in a.trace.firings if f.rule == "ow_overdose_opioid_naloxone")
    lab = next(f for f in a.trace.firings if f.rule == "lab_recommend_ck")
    assert f"firing:{naloxone.seq}" in titled and f"firing:{lab.seq}" not in titled
    assert {f"fact:{i}" for i in naloxone.matched} <= titled


@needs_dot
def test_assess_out_and_demo_link_the_rulebook_map(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(MAINO), "--out", str(tmp_path / "one")]) == 0
    assert (tmp_path / "one" / "rulebook.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert 'href="rulebook.svg"' in (tmp_path / "one" / "report.html").read_text()
    assert main(["demo", "--out", str(tmp_path / "demo"), "--quiet"]) == 0
    assert (tmp_path / "demo" / "rulebook.svg").is_file()
    for report in (tmp_path / "demo").glob("*/report.html"):
        assert 'href="../rulebook.svg"' in report.read_text()
    assert "rulebook.svg" in capsys.readouterr().out


FILTER_PROBE = """<script>
document.getElementById('gv-path-PATHCLASS').checked = true;
var shown = [];
document.querySelectorAll('#reasoning-graph g.node').forEach(function (n) {
  if (getComputedStyle(n).opacity >= 0.5) { shown.push(n.querySelector('title').textContent); }
});
document.getElementById('gv-zoom-200').checked = true;
var width = document.querySelector('#reasoning-graph svg').getBoundingClientRect().width;
var pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify({shown: shown, width: width});
document.body.appendChild(pre);
</script>"""


@needs_dot
def test_choosing_a_conclusion_in_chromium_fades_all_but_its_path(
        assessor: Assessor, tmp_path: Path) -> None:
    import html
    import json
    import subprocess

    from .test_report_browser import FLAGS, install_chromium

    chromium = install_chromium()
    a = assessor.assess(load_case(str(MAINO)))
    page = str(audit_files(a, assessor.kb).files["report.html"])
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", FILTER_PROBE.replace(
        "PATHCLASS", path_class("titrated_naloxone")) + "</body>"), encoding="utf-8")
    done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                          timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-500:]
    result = json.loads(html.unescape(found.group(1)))
    naloxone = next(f for f in a.trace.firings if f.rule == "ow_overdose_opioid_naloxone")
    shown = set(result["shown"])
    assert f"firing:{naloxone.seq}" in shown
    assert {f"fact:{i}" for i in naloxone.matched} <= shown
    assert len(shown) < len(a.trace.firings)  # most of the graph is faded
    assert result["width"] > 2000  # 200 % of the natural width
