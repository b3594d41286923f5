"""PumpDx benchmark: cold start, per-case latency, trace overhead, batch throughput, memory.

    .venv/bin/python bench/bench.py            # quick run (about a minute)
    .venv/bin/python bench/bench.py --full     # the figures in docs/benchmarks.md
    .venv/bin/python bench/bench.py --profile  # also: where the time of a case goes

Every figure is a median over repeated runs:
- cold start, in fresh subprocesses: importing the engine, loading the knowledge
  base, building the engine, the first case; and `pumpdx assess` end to end;
- per-case latency p50 and p95 (Assessor.assess, trace on) on the bundled cases
  (kb/cases/*.yaml) and on generated ones (tests/strategies.py), with the engine
  reused and with a fresh engine per case;
- trace overhead: the traced run against the bare experta run of the same compiled
  rules (experta's own KnowledgeEngine.run loop, facts declared without
  recording), as a ratio measured in one run, case by case interleaved;
- batch throughput (`pumpdx batch`) with 1 and 2 workers;
- memory: resident memory growth over many cases in one process after a warm-up,
  the peak, and the growth when an engine is built per case.

Timing on a shared machine is noisy: the machine's load average is printed with
the figures; CPU-time figures are printed beside the wall-clock ones.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

AIMS = {"p50_ms": 10.0, "overhead": 1.2, "cold_start_s": 0.5}


@dataclass(frozen=True)
class Plan:
    name: str
    cold_runs: int
    rounds: int
    bundled_repeats: int
    generated: int
    fresh_bundled_rounds: int
    fresh_generated: int
    overhead_cases: int
    batch_cases: int
    memory_cases: int
    memory_warmup: int
    fresh_memory_engines: int


QUICK = Plan("quick", cold_runs=3, rounds=3, bundled_repeats=5, generated=200,
             fresh_bundled_rounds=1, fresh_generated=5, overhead_cases=100,
             batch_cases=1000, memory_cases=2000, memory_warmup=300, fresh_memory_engines=10)
FULL = Plan("full", cold_runs=7, rounds=5, bundled_repeats=10, generated=1000,
            fresh_bundled_rounds=2, fresh_generated=20, overhead_cases=300,
            batch_cases=10_000, memory_cases=10_000, memory_warmup=500,
            fresh_memory_engines=40)


# -- helpers -------------------------------------------------------------------------
def say(text: str = "") -> None:
    print(text, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    from pumpdx.engine.assess import engine_versions
    from pumpdx.kb.loader import load_kb

    kb = load_kb()
    versions = engine_versions()
    return {
        "nproc": str(usable), "cpu": cpu, "ram": ram,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "os": platform.platform(), "experta": versions["experta"],
        "pumpdx": versions["pumpdx"],
        "knowledge base": f"{kb.version} ({len(kb.rules)} rules, {len(kb.concepts)} concepts)",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def python_command() -> list[str]:
    return [sys.executable]


def run_checked(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a helper process; its stderr goes into the error if it fails."""
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} ... failed ({proc.returncode}): "
                           f"{proc.stderr.strip()[-1500:]}")
    return proc


# -- cold start ------------------------------------------------------------------------
COLD = r"""
import json, sys, time
t0 = time.perf_counter()
from pumpdx.engine.assess import Assessor
from pumpdx.engine.inputs import load_case
t1 = time.perf_counter()
from pumpdx.kb.loader import load_kb
kb = load_kb()
t2 = time.perf_counter()
assessor = Assessor(kb)
t3 = time.perf_counter()
assessor.assess(load_case(sys.argv[1]))
t4 = time.perf_counter()
import pumpdx.cli
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "kb_load": t2 - t1, "engine_build": t3 - t2,
                  "first_case": t4 - t3, "cli_import_extra": t5 - t4}))
"""


def cold_start(plan: Plan, case: Path) -> dict[str, float]:
    parts: dict[str, list[float]] = {}
    walls: list[float] = []
    cli_walls: list[float] = []
    for _ in range(plan.cold_runs):
        start = time.perf_counter()
        out = run_checked([*python_command(), "-c", COLD, str(case)])
        walls.append(time.perf_counter() - start)
        for key, value in json.loads(out.stdout).items():
            parts.setdefault(key, []).append(value)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_checked([*python_command(), "-c",
                         "import sys; from pumpdx.cli import main; sys.exit(main())",
                         "assess", str(case), "--out", tmp])
            cli_walls.append(time.perf_counter() - start)
    result = {key: median(values) for key, values in parts.items()}
    result["import+kb+build"] = median([sum(x) for x in zip(parts["import"], parts["kb_load"],
                                                            parts["engine_build"],
                                                            strict=True)])
    result["process_wall"] = median(walls)
    result["pumpdx_assess_wall"] = median(cli_walls)
    return result


# -- latency ------------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def latency_reused(assessor: Any, cases: list[Any], rounds: int, repeats: int
                   ) -> dict[str, float]:
    p50s, p95s, cpu50s = [], [], []
    for _ in range(rounds):
        walls, cpus = [], []
        for _ in range(repeats):
            for case in cases:
                wall, cpu = timed(functools.partial(assessor.assess, case))
                walls.append(wall)
                cpus.append(cpu)
        p50s.append(percentile(walls, 0.5))
        p95s.append(percentile(walls, 0.95))
        cpu50s.append(percentile(cpus, 0.5))
    return {"p50_ms": median(p50s) * 1e3, "p95_ms": median(p95s) * 1e3,
            "cpu_p50_ms": median(cpu50s) * 1e3, "n": len(cases) * repeats}


def _fresh_assess(kb: Any, case: Any) -> Any:
    from pumpdx.engine.assess import Assessor

    return Assessor(kb).assess(case)


def latency_fresh(kb: Any, cases: list[Any], rounds: int) -> dict[str, float]:
    """A new engine (compile + Rete build) for every case; the KB is loaded once."""
    p50s, p95s = [], []
    for _ in range(rounds):
        walls = [timed(functools.partial(_fresh_assess, kb, case))[0] for case in cases]
        p50s.append(percentile(walls, 0.5))
        p95s.append(percentile(walls, 0.95))
    return {"p50_ms": median(p50s) * 1e3, "p95_ms": median(p95s) * 1e3, "n": len(cases)}


# -- trace overhead --------------------------------------------------------------------------
def bare_engine(kb: Any) -> Any:
    """The same compiled rules, run by experta's own loop with nothing recorded.

    Rule actions still declare their facts (conclusions chain into other rules), but
    no trace fact, firing, content key or refraction record is kept.
    """
    from pumpdx.engine.compat import experta
    from pumpdx.engine.compiler import compile_engine_class
    from pumpdx.engine.factclasses import fact_class
    from pumpdx.kb import calculations
    from pumpdx.kb.schema import ComputeAction, ConcludeAction, DeclareAction, HandoverAction

    compiled = compile_engine_class(kb)

    class Bare(compiled):  # type: ignore[misc,valid-type]
        def run_case(self, facts: Any) -> int:
            self.reset()
            self.running = True
            for type_name, fields in facts:
                self._declare_plain(type_name, fields)
            self.running = False
            self.fired = 0
            experta.KnowledgeEngine.run(self)
            return self.fired

        def _declare_plain(self, type_name: str, fields: dict[str, Any]) -> None:
            spec = self.fact_types[type_name]
            self.declare(fact_class(type_name)(**{n: fields.get(n) for n in spec.fields}))

        def perform(self, actions: Any, bindings: Any) -> None:
            self.fired += 1
            for action in actions:
                if isinstance(action, ConcludeAction):
                    self._declare_plain("conclusion", {
                        "id": action.conclude, "kind": self.concept_kinds[action.conclude]})
                elif isinstance(action, HandoverAction):
                    self._declare_plain("handover", {"algorithm": action.handover})
                elif isinstance(action, DeclareAction):
                    self._declare_plain(action.declare.fact, {
                        k: bindings[v[1:]] if isinstance(v, str) and v.startswith("$") else v
                        for k, v in action.declare.with_.items()})
                elif isinstance(action, ComputeAction):
                    for d in calculations.run(action.compute, bindings, self.params):
                        self._declare_plain(d.fact, d.fields)

    return Bare()


def trace_overhead(assessor: Any, cases: list[Any], rounds: int) -> dict[str, float]:
    """Traced run_case against the bare run of the same rules, interleaved case by case."""
    from pumpdx.engine.casefacts import case_facts

    bare = bare_engine(assessor.kb)
    facts = [case_facts(c, assessor.kb) for c in cases]
    ratios, cpu_ratios, traced_ms, bare_ms = [], [], [], []
    same_firings = True
    for _ in range(rounds):
        tw = bw = tc = bc = 0.0
        for f in facts:
            w0, c0 = time.perf_counter(), time.process_time()
            trace = assessor.engine.run_case(f)
            w1, c1 = time.perf_counter(), time.process_time()
            fired = bare.run_case(f)
            w2, c2 = time.perf_counter(), time.process_time()
            tw, tc, bw, bc = tw + w1 - w0, tc + c1 - c0, bw + w2 - w1, bc + c2 - c1
            same_firings &= len(trace.firings) == fired
        ratios.append(tw / bw)
        cpu_ratios.append(tc / bc)
        traced_ms.append(tw / len(facts) * 1e3)
        bare_ms.append(bw / len(facts) * 1e3)
    return {"ratio": median(ratios), "cpu_ratio": median(cpu_ratios),
            "traced_ms": median(traced_ms), "bare_ms": median(bare_ms),
            "same_firings": float(same_firings), "n": len(cases)}


# -- batch and memory --------------------------------------------------------------------------
def batch_throughput(cases_file: Path, lines: int, jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        start = time.perf_counter()
        before = os.times()
        proc = subprocess.run(
            [*python_command(), "-c", "import sys; from pumpdx.cli import main; sys.exit(main())",
             "batch", str(cases_file), "--out", str(out), "--jobs", str(jobs), "--quiet"],
            capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = os.times()
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"pumpdx batch failed: {proc.stderr.strip()}")
        digest = hashlib.sha256()
        written = errors = 0
        with out.open("rb") as handle:
            for line in handle:
                digest.update(line)
                written += 1
                errors += line.startswith(b'{"line"')
    cpu = (after.children_user + after.children_system) - (before.children_user
                                                           + before.children_system)
    return {"cases_per_s": lines / wall, "wall_s": wall, "cpu_s": cpu,
            "lines_in": lines, "lines_out": written, "error_records": errors,
            "sha256": digest.hexdigest()}


def memory(cases_file: Path, count: int, warmup: int, fresh: int) -> dict[str, Any]:
    def run(*extra: str) -> dict[str, Any]:
        out = run_checked([*python_command(), str(BENCH / "memcheck.py"), str(cases_file),
                           str(count), "--warmup", str(warmup), *extra])
        result: dict[str, Any] = json.loads(out.stdout)
        return result

    reused = run()
    fresh_result = run("--fresh", str(fresh))
    return {"reused": reused, "fresh": fresh_result}


# -- profile ----------------------------------------------------------------------------------
AREAS = (("experta/matchers/rete", "experta Rete matching"), ("experta", "experta (other)"),
         ("pumpdx/engine/runtime", "pumpdx runtime (trace, loop)"),
         ("engine/runtime", "pumpdx runtime (trace, loop)"),
         ("engine/strategy", "pumpdx strategy (agenda order)"),
         ("engine/compiler", "pumpdx compiled predicates"),
         ("engine/assess", "pumpdx assessment building"), ("engine/casefacts", "case -> facts"),
         ("pydantic", "pydantic (models)"), ("logging", "logging calls in experta"))


def profile(assessor: Any, cases: list[Any]) -> list[tuple[str, float]]:
    """Share of the time of assess() by area (cProfile self time)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for case in cases:
        assessor.assess(case)
    prof.disable()
    stats = pstats.Stats(prof)
    by_area: dict[str, float] = {}
    total = 0.0
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        self_time = row[2]
        total += self_time
        area = next((label for key, label in AREAS if key in filename), "other (builtins, ...)")
        by_area[area] = by_area.get(area, 0.0) + self_time
    return sorted(((a, t / total) for a, t in by_area.items()), key=lambda x: -x[1])


def usable_cases(lines: list[str], count: int) -> list[Any]:
    """The first `count` lines that are valid cases (a --cases file may hold bad ones)."""
    from pumpdx.engine.inputs import InputError, case_from_data, parse_json

    out = []
    for i, line in enumerate(lines, 1):
        try:
            out.append(case_from_data(parse_json(line, f"line {i}"), f"line {i}"))
        except InputError:
            continue
        if len(out) == count:
            break
    return out


# -- main ---------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the full run (docs/benchmarks.md)")
    parser.add_argument("--cases", type=Path,
                        help="generated cases (JSONL, from bench/gencases.py) to reuse")
    parser.add_argument("--profile", action="store_true", help="also profile assess()")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    plan = FULL if args.full else QUICK

    from gencases import generate, write_jsonl  # bench/gencases.py (this folder)

    from pumpdx.engine.assess import Assessor
    from pumpdx.engine.inputs import load_case
    from pumpdx.kb.loader import default_kb_dir, load_kb

    figures: dict[str, Any] = {"plan": plan.name}
    figures["machine"] = info = machine()
    say(f"PumpDx benchmark ({plan.name} run)")
    for key, value in info.items():
        say(f"  {key:15} {value}")

    bundled_paths = sorted((default_kb_dir() / "cases").glob("*.yaml"))
    bundled = [load_case(str(p)) for p in bundled_paths]
    need = max(plan.batch_cases, plan.generated, plan.memory_cases)
    with tempfile.TemporaryDirectory() as tmp:
        cases_file = args.cases
        if cases_file is None:
            say(f"\ngenerating {need} cases (tests/strategies.py) ...")
            start = time.perf_counter()
            cases_file = Path(tmp) / "cases.jsonl"
            write_jsonl(generate(need), cases_file)
            say(f"  {time.perf_counter() - start:.0f} s")
        lines = cases_file.read_text(encoding="utf-8").splitlines()
        batch_file = Path(tmp) / "batch.jsonl"
        batch_file.write_text("\n".join(lines[:plan.batch_cases]) + "\n", encoding="utf-8")
        generated = usable_cases(lines, plan.generated)

        say(f"\ncold start (fresh processes, median of {plan.cold_runs})")
        figures["cold_start"] = cold = cold_start(plan, bundled_paths[0])
        say(f"  import engine {cold['import']:.3f} s, load KB {cold['kb_load']:.3f} s, "
            f"build engine {cold['engine_build']:.3f} s -> {cold['import+kb+build']:.3f} s "
            f"(aim < {AIMS['cold_start_s']} s)")
        say(f"  first case {cold['first_case'] * 1e3:.1f} ms; importing the CLI adds "
            f"{cold['cli_import_extra']:.3f} s; python -c ... whole process "
            f"{cold['process_wall']:.2f} s; `pumpdx assess CASE --out DIR` "
            f"{cold['pumpdx_assess_wall']:.2f} s")

        kb = load_kb()
        assessor = Assessor(kb)
        for case in bundled + generated[:20]:
            assessor.assess(case)
        say(f"\nper-case latency, Assessor.assess with the trace (median of {plan.rounds} "
            "rounds)")
        lat = {
            "bundled_reused": latency_reused(assessor, bundled, plan.rounds,
                                             plan.bundled_repeats),
            "generated_reused": latency_reused(assessor, generated, plan.rounds, 1),
            "bundled_fresh": latency_fresh(kb, bundled, plan.fresh_bundled_rounds),
            "generated_fresh": latency_fresh(kb, generated[:plan.fresh_generated],
                                             plan.fresh_bundled_rounds),
        }
        figures["latency"] = lat
        for key, row in lat.items():
            cpu = f", CPU p50 {row['cpu_p50_ms']:.2f} ms" if "cpu_p50_ms" in row else ""
            say(f"  {key:18} p50 {row['p50_ms']:8.2f} ms  p95 {row['p95_ms']:8.2f} ms"
                f"{cpu}  ({int(row['n'])} cases)")

        say("\ntrace overhead (traced run / bare experta run, same compiled rules)")
        figures["trace_overhead"] = ov = trace_overhead(assessor, generated[:plan.overhead_cases],
                                                        plan.rounds)
        say(f"  ratio {ov['ratio']:.3f} wall, {ov['cpu_ratio']:.3f} CPU (aim < "
            f"{AIMS['overhead']}); traced {ov['traced_ms']:.2f} ms, bare {ov['bare_ms']:.2f} ms "
            f"per case; same firings: {'yes' if ov['same_firings'] else 'NO'}")

        say(f"\nbatch throughput (`pumpdx batch`, {plan.batch_cases} generated cases)")
        thr = {jobs: batch_throughput(batch_file, plan.batch_cases, jobs) for jobs in (1, 2)}
        figures["batch"] = {str(k): v for k, v in thr.items()}
        for jobs, run in thr.items():
            say(f"  {jobs} worker{'s' if jobs > 1 else ' '}  {run['cases_per_s']:7.1f} cases/s "
                f"({run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU; "
                f"{run['lines_out']}/{run['lines_in']} lines out, "
                f"{run['error_records']} error records)")
        say(f"  speed-up with 2 workers: {thr[2]['cases_per_s'] / thr[1]['cases_per_s']:.2f}x; "
            f"same output: {'yes' if thr[1]['sha256'] == thr[2]['sha256'] else 'NO'}")

        say(f"\nmemory (one process, {plan.memory_cases} cases after a warm-up of "
            f"{plan.memory_warmup})")
        figures["memory"] = mem = memory(cases_file, plan.memory_cases, plan.memory_warmup,
                                         plan.fresh_memory_engines)
        r, f = mem["reused"], mem["fresh"]
        say(f"  engine reused: {r['rss_after_warmup_mb']} MB after warm-up -> "
            f"{r['rss_end_mb']} MB after {r['cases']} cases (growth "
            f"{r['growth_after_warmup_mb']} MB; checkpoints {r['rss_checkpoints_mb']}); "
            f"peak {r['peak_mb']} MB")
        say(f"  engine per case: +{f['fresh_growth_mb']} MB over {f['fresh_engines']} engines "
            f"(peak {f['peak_mb']} MB)")

        if args.profile:
            say("\nwhere the time of assess() goes (cProfile self time, generated cases)")
            figures["profile"] = shares = profile(assessor, generated)
            for area, share in shares:
                say(f"  {share * 100:5.1f} %  {area}")

    misses = []
    if lat["bundled_reused"]["p50_ms"] > AIMS["p50_ms"]:
        misses.append("p50 latency (bundled)")
    if lat["generated_reused"]["p50_ms"] > AIMS["p50_ms"]:
        misses.append("p50 latency (generated)")
    if ov["ratio"] > AIMS["overhead"]:
        misses.append("trace overhead")
    if cold["import+kb+build"] > AIMS["cold_start_s"]:
        misses.append("cold start")
    say("\naims missed: " + (", ".join(misses) if misses else "none"))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
