"""Options and the summary of the benchmark suite (see docs/benchmarks.md).

The default `pytest` run passes --benchmark-disable (pyproject): every benchmark runs once,
untimed, as a smoke test. `pytest tests/bench --benchmark-enable` times them.
"""

import pytest

MEDIANS: dict = {}   # (group, name) -> median seconds of the benchmarks timed in this run
CPU: dict = {}       # (group, name) -> median CPU seconds a sample, where a benchmark measures it


def pytest_addoption(parser):
    g = parser.getgroup("gradref benchmarks")
    g.addoption("--verify-samples", type=int, default=100,
                help="samples every row of a verify group checks per round (100)")
    g.addoption("--marginal-samples", type=int, default=100_000,
                help="samples of gradref's rows in the marginal group (100,000)")


def record(benchmark, name, samples=None):
    """Keep the median of a timed benchmark for the summary and the saved JSON."""
    if benchmark.stats is not None and benchmark.stats.stats.rounds:
        median = benchmark.stats.stats.median
        MEDIANS[(benchmark.group, name)] = median / (samples or 1)


def ratios() -> dict:
    """Per group: the ratios the report is for, from the medians."""
    out = {}
    for group in sorted({g for g, _ in MEDIANS}):
        m = {n: t for (g, n), t in MEDIANS.items() if g == group}
        r = {}
        if "handwritten forward" in m and "handwritten backward" in m:
            r["backward_forward_ratio"] = m["handwritten backward"] / m["handwritten forward"]
        if "handwritten forward" in m and "handwritten backward" in m and "jit(vjp)" in m:
            r["handwritten_over_jit_vjp"] = (m["handwritten forward"] + m["handwritten backward"]) / m["jit(vjp)"]
        if "jit(vjp)" in m and "eager vjp" in m:
            r["eager_over_jit_vjp"] = m["eager vjp"] / m["jit(vjp)"]
        if "fd oracle" in m and "reference forward" in m:
            r["fd_over_reference_forward"] = m["fd oracle"] / m["reference forward"]
        if "check" in m and "handwritten forward" in m:
            r["check_over_forward"] = m["check"] / m["handwritten forward"]
        for tool, key in (("gradref", "gradref"), ("gradref (compiled)", "gradref_compiled")):
            for other in ("check_grads (handwritten)", "check_grads (reference)", "gradcheck"):
                if tool in m and other in m:
                    r[f"{key}_speedup_vs_{other}"] = m[other] / m[tool]
        for tool, key in (("gradref report --impl (marginal)", "marginal"),
                          ("gradref --impl (warm)", "warm")):
            other = "check_grads (reference)"
            if tool in m and other in m:
                r[f"{key}_speedup_vs_check_grads"] = m[other] / m[tool]
            if (group, tool) in CPU and (group, other) in CPU:
                r[f"{key}_cpu_speedup_vs_check_grads"] = CPU[(group, other)] / CPU[(group, tool)]
        if r:
            out[group] = r
    return out


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Saved runs carry the ratios in each benchmark's extra_info."""
    r = ratios()
    for b in output_json.get("benchmarks", []):
        b.setdefault("extra_info", {}).update(r.get(b.get("group"), {}))


def pytest_terminal_summary(terminalreporter, config):
    r = ratios()
    if not r:
        return
    terminalreporter.write_sep("-", "gradref ratios (medians)")
    for group, values in r.items():
        terminalreporter.write_line(f"{group!s:28} " + "  ".join(
            f"{k} {v:.3g}" for k, v in values.items()))


@pytest.fixture
def bench(benchmark, request):
    """benchmark, plus `bench.run(name, fn, samples=None, **pedantic)` that times fn and keeps
    its median (per sample when `samples` is given) for the ratios."""
    class Bench:
        config = request.config

        def run(self, name, fn, samples=None, **pedantic):
            result = benchmark.pedantic(fn, **pedantic) if pedantic else benchmark(fn)
            record(benchmark, name, samples)
            return result

        def __getattr__(self, item):
            return getattr(benchmark, item)

        def __setattr__(self, item, value):     # bench.group = ...: the benchmark's group
            setattr(benchmark, item, value)
    return Bench()
