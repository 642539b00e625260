"""Issue 12's measure of what isolation costs: the marginal throughput of

    gradref report --impl FILE --case staged --samples N+1 --no-mutants     (over --samples 1)

for a FILE that implements staged correctly (the handwritten pair, run in a worker process like
any user's file), against a warm jax.test_util.check_grads(order=1, modes=("rev",)) loop of the
case's reference, one sample a call (its first call made before timing). Group `marginal staged`:

    gradref report --impl (marginal)   the command in a subprocess: (median wall of the N+1-sample
                                       run - median of three 1-sample runs) / N; CPU (user + sys of
                                       gradref and its worker) the same way, in extra_info
    gradref --impl (warm)              the same N samples in this process: check_case through the
                                       worker with its oracles compiled, plus the report's
                                       bookkeeping (status, worst, failures): what the marginal is
    check_grads (reference)            --verify-samples samples a round

`--marginal-samples N` (default 100,000; 20 untimed). The ratios print as
`marginal_speedup_vs_check_grads` (wall) and `marginal_cpu_speedup_vs_check_grads`."""

import os
import resource
import statistics
import subprocess
import sys
import time

import pytest

import cases
from cases import bench as B
from cases import check
from cases.impl import load

from .conftest import CPU, MEDIANS

CASE = "staged"
TOOLS = ("gradref report --impl (marginal)", "gradref --impl (warm)", "check_grads (reference)")
SEED = 0
IMPL = "from handwritten.notes import staged_forward, staged_backward\n"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _worker_cpu(impl) -> float:
    """CPU seconds (user + sys) the running worker of `impl` has used, from /proc (Linux)."""
    w = check.worker.runner(impl)
    fields = open(f"/proc/{w._process.pid}/stat").read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _report(path, samples: int) -> tuple:
    """(wall, CPU) seconds of one `gradref report` of staged, its worker's CPU included."""
    root = os.path.dirname(os.path.dirname(cases.__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    cpu, t0 = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from cases.cli import main; "
                    "sys.exit(main())", "report", "--impl", str(path), "--case", CASE,
                    "--samples", str(samples), "--no-mutants"],
                   check=True, stdout=subprocess.DEVNULL, cwd=root, env=env)
    return time.perf_counter() - t0, _children_cpu() - cpu


@pytest.mark.parametrize("tool", TOOLS)
def test_marginal(tool, bench, tmp_path):
    timed = B.enabled(bench.config)
    n = B.option(bench.config, "marginal_samples", 100_000) if timed else 20
    loops = B.option(bench.config, "verify_samples", 100) if timed else 2
    case = cases.get(CASE)
    group = bench.group = f"marginal {CASE}"
    path = tmp_path / "staged_impl.py"
    path.write_text(IMPL)
    if tool == "gradref report --impl (marginal)":
        ones = [_report(path, 1) for _ in range(3 if timed else 1)]
        cpus = []

        def run():
            wall, cpu = _report(path, n + 1)
            cpus.append(cpu)
        bench.run(tool, run, rounds=3 if timed else 1, iterations=1)
        one_wall = statistics.median(w for w, _ in ones)
        one_cpu = statistics.median(c for _, c in ones)
        if bench.stats is not None and bench.stats.stats.rounds:
            MEDIANS[(group, tool)] = (bench.stats.stats.median - one_wall) / n
            CPU[(group, tool)] = (statistics.median(cpus) - one_cpu) / n
        bench.extra_info.update(samples=n, one_sample_wall=one_wall, one_sample_cpu=one_cpu,
                                cpu_per_sample=(statistics.median(cpus) - one_cpu) / n)
        return
    if tool == "gradref --impl (warm)":
        impl = load(str(path))
        check.check_case(case, impl, SEED, 1)           # the worker started, oracles compiled
        cpu = []

        def run():
            c0 = time.process_time() + _worker_cpu(impl)
            r = check.check_case(case, impl, SEED, n)
            assert r.status == "passed", r.failures()[:1]
            r.worst("forward"), r.worst("jax"), r.worst("fd"), r.failures(), r.checked
            cpu.append(time.process_time() + _worker_cpu(impl) - c0)
        bench.run(tool, run, samples=n, rounds=3 if timed else 1, iterations=1)
        CPU[(group, tool)] = statistics.median(cpu) / n
        bench.extra_info.update(samples=n, cpu_per_sample=CPU[(group, tool)])
        return
    B.check_grads_loop(case, 1, SEED, "reference")()      # first-call costs are not counted
    loop = B.check_grads_loop(case, loops, SEED, "reference")
    cpu = []

    def timed_loop():
        c0 = time.process_time()
        loop()
        cpu.append(time.process_time() - c0)
    bench.run(tool, timed_loop, samples=loops, rounds=3 if timed else 1, iterations=1)
    CPU[(group, tool)] = statistics.median(cpu) / loops
    bench.extra_info.update(samples=loops, cpu_per_sample=CPU[(group, tool)])
