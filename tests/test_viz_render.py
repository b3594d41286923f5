"""Rendering with Graphviz, and the command line: assess --out, demo, kb graph."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pumpdx.cli import main
from pumpdx.engine.assess import Assessor
from pumpdx.engine.assessment import Assessment
from pumpdx.engine.inputs import load_case
from pumpdx.kb.loader import KnowledgeBase
from pumpdx.viz.audit import audit_files
from pumpdx.viz.dot import RenderError, original_id, render, svg_for_html
from pumpdx.viz.reasoning_dot import reasoning_dot
from pumpdx.viz.rulebook_dot import rulebook_dot

from .conftest import CASES_DIR
from .test_viz_graph import dot_edges, dot_nodes

CASES = sorted(CASES_DIR.glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz 'dot' is not installed (scripts/setup.sh "
                                      "installs it); only the DOT output is tested")


@pytest.fixture(scope="module")
def assessments(assessor: Assessor) -> dict[str, Assessment]:
    return {p.stem: assessor.assess(load_case(str(p))) for p in CASES}


@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH without Graphviz."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def svg_titles(svg: bytes, cls: str) -> set[str]:
    root = ET.fromstring(svg)
    return {str(g.findtext(f"{SVG}title")) for g in root.iter(f"{SVG}g")
            if (g.get("class") or "").split()[:1] == [cls]}


def cluster_boxes(svg: bytes) -> dict[str, tuple[float, float, float, float]]:
    """Each algorithm box's extent (x0, x1, y0, y1) in the SVG."""
    boxes = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") != "cluster":
            continue
        shape = next(el for el in g.iter() if el.tag in (f"{SVG}path", f"{SVG}polygon"))
        nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?",
                                             shape.get("d") or shape.get("points") or "")]
        boxes[str(g.findtext(f"{SVG}title"))] = (min(nums[0::2]), max(nums[0::2]),
                                                 min(nums[1::2]), max(nums[1::2]))
    return boxes


def assert_boxes_apart(svg: bytes) -> None:
    boxes = sorted(cluster_boxes(svg).items())
    assert boxes
    for i, (a, (ax0, ax1, ay0, ay1)) in enumerate(boxes):
        for b, (bx0, bx1, by0, by1) in boxes[i + 1:]:
            apart = ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0
            assert apart, f"algorithm boxes {a} and {b} overlap"


@needs_dot
@pytest.mark.parametrize("case", [p.stem for p in CASES])
def test_svg_draws_every_node_and_edge(case: str, assessments: dict[str, Assessment],
                                       kb: KnowledgeBase) -> None:
    dot = reasoning_dot(assessments[case], kb)
    svg = render(dot, "svg")
    assert svg_titles(svg, "node") == dot_nodes(dot)
    assert svg_titles(svg, "edge") == {f"{u}->{v}" for u, v in dot_edges(dot)}
    assert_boxes_apart(svg)
    inline = svg_for_html(svg)
    assert inline.startswith("<svg") and "<!--" not in inline and "<?xml" not in inline


@needs_dot
def test_png_and_pdf(assessments: dict[str, Assessment], kb: KnowledgeBase) -> None:
    dot = reasoning_dot(next(iter(assessments.values())), kb)
    assert render(dot, "png").startswith(b"\x89PNG")
    assert render(dot, "pdf").startswith(b"%PDF")


@needs_dot
def test_user_text_survives_rendering(run: object, kb: KnowledgeBase) -> None:
    case_id = '<b>"x" & \\n </svg> y'
    a = run({"case_id": case_id, "pump": {"model": "synchromed_ii"},  # type: ignore[operator]
             "presentation": {"problems": ["withdrawal"]}})
    svg = render(reasoning_dot(a, kb), "svg")
    texts = "".join(ET.fromstring(svg).itertext())
    assert case_id in texts


def test_without_graphviz_dot_and_report_are_still_made(
        no_dot: None, assessments: dict[str, Assessment], kb: KnowledgeBase) -> None:
    a = next(iter(assessments.values()))
    with pytest.raises(RenderError, match="Graphviz") as exc:
        render(reasoning_dot(a, kb), "svg")
    assert exc.value.missing
    out = audit_files(a, kb)
    assert set(out.files) == {"reasoning.dot", "report.html"}
    assert out.problem and "Graphviz" in out.problem and "\n" not in out.problem
    assert 'id="graph-missing"' in str(out.files["report.html"])


def test_assess_out_writes_the_audit_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    case = CASES[0]
    assert main(["assess", str(case), "--out", str(tmp_path / "out")]) == 0
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"assessment.json", "assessment.txt", "reasoning.dot", "report.html"} <= names
    assert ("reasoning.svg" in names) == (shutil.which("dot") is not None)
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert ('id="reasoning-graph"' in report) == ("reasoning.svg" in names)


def test_assess_out_without_graphviz_says_so_once(no_dot: None, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(CASES[0]), "--out", str(tmp_path / "out")]) == 0
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {"assessment.json", "assessment.txt", "reasoning.dot", "report.html"}
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SVG" in err[0] and "Graphviz" in err[0]


def test_demo_writes_every_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    printed = capsys.readouterr().out
    for case in CASES:
        folder = tmp_path / case.stem
        assert (folder / "report.html").is_file() and (folder / "reasoning.dot").is_file()
        assert (folder / "reasoning.svg").is_file() == (shutil.which("dot") is not None)
        assert str(folder) in printed
    assert "report.html" in printed


def test_demo_without_graphviz_says_so_once(no_dot: None, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    for case in CASES:
        names = {p.name for p in (tmp_path / case.stem).iterdir()}
        assert names == {"assessment.json", "assessment.txt", "reasoning.dot", "report.html"}
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "SVG" in err[0] and "Graphviz" in err[0]
    assert "reasoning.svg" not in captured.out


def test_kb_graph_dot_needs_no_graphviz(no_dot: None, tmp_path: Path, kb: KnowledgeBase,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "map.dot"
    assert main(["kb", "graph", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == rulebook_dot(kb)
    assert str(out) in capsys.readouterr().out


def test_kb_graph_without_graphviz_fails_clearly(no_dot: None, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "map.svg"
    with pytest.raises(SystemExit) as exc:
        main(["kb", "graph", "--out", str(out)])
    assert exc.value.code == 2 and not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Graphviz" in err[0] and ".dot" in err[0]


@pytest.mark.parametrize("argv, message", [
    (["--out", "map.txt"], "allowed suffixes: .dot, .svg, .png, .pdf"),
    (["--out", "map.dot", "--case", "no-such-case.yaml"], "no-such-case.yaml"),
])
def test_kb_graph_bad_input(argv: list[str], message: str, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["kb", "graph", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not list(tmp_path.iterdir())


@needs_dot
def test_kb_graph_svg_with_a_case(tmp_path: Path, kb: KnowledgeBase,
                                  assessments: dict[str, Assessment],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[0]
    out = tmp_path / "map.svg"
    assert main(["kb", "graph", "--out", str(out), "--case", str(case)]) == 0
    nodes = {original_id(n) for n in svg_titles(out.read_bytes(), "node")}
    assert_boxes_apart(out.read_bytes())
    assert {f"rule:{r.rule.id}" for r in kb.rules} <= nodes
    assert assessments[case.stem].decision_id in "".join(ET.fromstring(out.read_bytes()).itertext())
    assert "rules fired" in capsys.readouterr().out
