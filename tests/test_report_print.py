"""The HTML audit report prints whole: headless Chromium prints it to PDF
(`chromium --headless --print-to-pdf`), poppler-utils (Debian; scripts/setup.sh --test)
reads the PDF back: no page is blank and the reasoning graph is on a page whole, every
firing of the trace readable in it and nothing outside the page."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pumpdx.engine.assess import Assessor
from pumpdx.engine.inputs import load_case
from pumpdx.viz.audit import audit_files

from .conftest import CASES_DIR
from .test_report_browser import FLAGS, install_chromium


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is missing (Debian package poppler-utils; run "
                    "scripts/setup.sh --test)")
    return found


def _pgm_dark_fraction(data: bytes) -> float:
    """Share of pixels darker than near-white in a binary PGM (P5) image."""
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P5", "pdftoppm -gray writes binary PGM"
    width, height, pixels = int(parts[1]), int(parts[2]), parts[4]
    pixels = pixels[: width * height]
    return sum(1 for p in pixels if p < 200) / max(1, width * height)


def test_printed_report_has_no_blank_page_and_the_whole_graph(
        assessor: Assessor, tmp_path: Path) -> None:
    chromium = install_chromium()
    pdftotext, pdftoppm, pdfinfo = (_tool(n) for n in ("pdftotext", "pdftoppm", "pdfinfo"))
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is missing: the report has no graph to print")
    assessments = [assessor.assess(load_case(str(p))) for p in sorted(CASES_DIR.glob("*.yaml"))]
    a = max(assessments, key=lambda x: len(x.trace.firings))
    report = tmp_path / "report.html"
    report.write_text(str(audit_files(a, assessor.kb).files["report.html"]), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert pdf.is_file() and pdf.stat().st_size > 0, done.stderr[-500:]

    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    width, height = (float(x) for x in re.search(  # type: ignore[union-attr]
        r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert pages >= 2 and width > height, "landscape pages (@page in the print stylesheet)"

    for page in range(1, pages + 1):
        image = subprocess.run([pdftoppm, "-gray", "-r", "24", "-f", str(page), "-l", str(page),
                                str(pdf)], capture_output=True, check=True).stdout
        assert _pgm_dark_fraction(image) > 0.001, f"page {page} of {pages} is blank"

    texts = [subprocess.run([pdftotext, "-f", str(p), "-l", str(p), "-layout", str(pdf), "-"],
                            capture_output=True, text=True, check=True).stdout
             for p in range(1, pages + 1)]
    graph_pages = [i for i, t in enumerate(texts, 1) if "Reasoning of assessment" in t]
    assert len(graph_pages) == 1, "the graph is printed on one page"
    graph_page = graph_pages[0]
    graph_text = re.sub(r"\s+", "", texts[graph_page - 1])
    for firing in a.trace.firings:
        assert f"#{firing.seq}{firing.rule}" in graph_text, \
            f"firing #{firing.seq} {firing.rule} is not on the printed graph"
    # Nothing of the graph page lies outside the page (clipped drawing would).
    bbox = subprocess.run([pdftotext, "-bbox", "-f", str(graph_page), "-l", str(graph_page),
                           str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    boxes = [tuple(float(v) for v in m) for m in re.findall(
        r'xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)"', bbox)]
    assert boxes
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 <= x1 <= width and 0 <= y0 <= y1 <= height
