"""How much a clinician reads: items in the clinician view per case.

    .venv/bin/python bench/clinician_view.py            # 10,000 generated cases
    .venv/bin/python bench/clinician_view.py --generated 1000

Over the bundled cases (kb/cases), the scenario cases (kb/scenarios) and generated
cases (the property tests' strategies, bench/gencases.py), prints per case:
items shown by default in the clinician view (pumpdx.viz.clinicianview; questions
apart), urgent actions shown (the first section, "DO NOW"), open questions shown,
and for comparison the conclusions and urgent actions of the full JSON assessment.
Each as median, p90 and max. The figures are recorded in README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from pumpdx.engine.assess import Assessor  # noqa: E402
from pumpdx.engine.inputs import load_case  # noqa: E402
from pumpdx.engine.scenarios import load_scenario, scenario_paths  # noqa: E402
from pumpdx.kb.facts import Case  # noqa: E402
from pumpdx.kb.loader import default_kb_dir  # noqa: E402
from pumpdx.viz.clinicianview import clinician_view  # noqa: E402

MEASURES = ("items shown", "urgent actions shown", "questions shown",
            "conclusions in the JSON", "urgent actions in the JSON")


def measure(assessor: Assessor, cases: Iterable[Case]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {m: [] for m in MEASURES}
    for case in cases:
        a = assessor.assess(case)
        view = clinician_view(a, assessor.kb)
        out["items shown"].append(len(view.shown()))
        out["urgent actions shown"].append(len(view.urgent()))
        out["questions shown"].append(len(view.questions))
        out["conclusions in the JSON"].append(len(a.conclusions))
        out["urgent actions in the JSON"].append(len(a.by_kind("urgent_action")))
    return out


def p90(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def report(title: str, figures: dict[str, list[int]]) -> None:
    n = len(next(iter(figures.values())))
    print(f"{title} ({n} cases)")
    for name, values in figures.items():
        print(f"  {name:28s} median {statistics.median(values):4g}   p90 {p90(values):3d}   "
              f"max {max(values):3d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--generated", type=int, default=10_000,
                        help="how many generated cases (default 10000)")
    parser.add_argument("--cases", type=Path,
                        help="generated cases to reuse (JSONL from bench/gencases.py)")
    args = parser.parse_args(argv)
    generated: list[dict[str, Any]] = []
    if args.cases is not None:
        lines = args.cases.read_text(encoding="utf-8").splitlines()
        generated = [json.loads(line) for line in lines if line.strip()]
    elif args.generated > 0:
        from gencases import generate  # bench/gencases.py (this folder)

        generated = generate(args.generated)  # first: hypothesis wants a quiet process
    assessor = Assessor()
    bundled = [load_case(str(p)) for p in sorted((default_kb_dir() / "cases").glob("*.yaml"))]
    report("bundled cases", measure(assessor, bundled))
    scenarios = [load_scenario(p).case
                 for p in scenario_paths([default_kb_dir() / "scenarios"])]
    report("scenario cases", measure(assessor, scenarios))
    if generated:
        report("generated cases", measure(assessor, (Case.model_validate(d)
                                                      for d in generated)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
