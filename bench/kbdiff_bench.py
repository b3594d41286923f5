"""Time `pumpdx kb diff --base HEAD~1 --cases registry.jsonl --fail-on-change` on a
10,000-line registry, with a real rule change in HEAD (prints figures; not a test).

    .venv/bin/python bench/kbdiff_bench.py [--lines 10000] [--jobs 1 2]

A throwaway local clone of this repository gets one commit that edits a rule (the
raised-CK rule loses its opioid alternative), so HEAD~1 and HEAD differ; the registry
comes from bench/gencases.py (the same cases every time). Wall time moves with the load
of a shared machine; the CPU time of the command (its worker processes included) is
printed beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PUMPDX = REPO / ".venv" / "bin" / "pumpdx"
EDIT = ("          - fact: drug\n            where: {agent_class: opioid}\n"
        "          - fact: drug\n            where: {agent: ziconotide}\n"
        "    then:\n      - conclude: lab_ck_rise_drug_myopathy",
        "          - fact: drug\n            where: {agent: ziconotide}\n"
        "          - fact: drug\n            where: {agent: baclofen}\n"
        "    then:\n      - conclude: lab_ck_rise_drug_myopathy")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pumpdx-kbdiff-bench-") as tmp_name:
        tmp = Path(tmp_name)
        registry = tmp / "registry.jsonl"
        subprocess.run([sys.executable, str(REPO / "bench" / "gencases.py"), str(args.lines),
                        str(registry)], check=True, capture_output=True)
        clone = tmp / "repo"
        git("clone", "--quiet", "--local", "--no-hardlinks", str(REPO), str(clone), cwd=tmp)
        rules = clone / "kb" / "rules" / "laboratory.yaml"
        text = rules.read_text(encoding="utf-8")
        assert text.count(EDIT[0]) == 1, "the benchmark's rule edit no longer applies"
        rules.write_text(text.replace(EDIT[0], EDIT[1]), encoding="utf-8")
        git("-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qam",
            "bench: drop the opioid alternative of lab_ck_drug_myopathy", cwd=clone)
        print(f"registry: {args.lines} lines; rule change: lab_ck_drug_myopathy; "
              f"{os.cpu_count()} CPUs")
        for jobs in args.jobs:
            cmd = [str(PUMPDX), "kb", "diff", "--base", "HEAD~1", "--kb", str(clone / "kb"),
                   "--cases", str(registry), "--fail-on-change", "--jobs", str(jobs)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=clone, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            summary = [line for line in done.stdout.splitlines()
                       if line.startswith(("Registry", "  lab_ck"))]
            load = os.getloadavg()[0]
            print(f"jobs {jobs}: {seconds:.1f} s wall, {cpu:.1f} s CPU (all processes), "
                  f"{args.lines / seconds:.0f} lines/s, load average {load:.2f}, exit code "
                  f"{done.returncode}; " + " | ".join(s.strip() for s in summary))


if __name__ == "__main__":
    main()
