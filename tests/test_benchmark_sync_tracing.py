"""benchmarks/sync_facade.py and benchmarks/tracing_overhead.py keep working (figures only)."""

from __future__ import annotations

from benchmarks import sync_facade, tracing_overhead


def test_sync_facade_benchmark_produces_figures() -> None:
    figures = sync_facade.run(rounds=1, calls=250, warmup=10, handoffs=500)
    for name in ("async", "sync", "floor", "floor_thread"):
        assert figures[name]["cpu_us_per_call"] > 0
        assert figures[name]["wall_us_per_call"] > 0
    assert figures["handoff_cpu_us"] > 0
    assert "floor_overhead_cpu_us_per_call" in figures
    assert "facade alone" in sync_facade.report(figures)
    assert "floor in a loop thread" in sync_facade.report(figures)


def test_tracing_benchmark_produces_figures() -> None:
    figures = tracing_overhead.run(rounds=1, calls=250, warmup=10, policy_calls=500)
    variants = figures["variants"]
    assert set(variants) == {"off", "default", "no-op provider", "sdk, not exported"}
    assert variants["off"]["overhead_cpu_us"] == 0
    assert variants["no-op provider"]["policy_alone_us"] is not None
    assert variants["off"]["policy_alone_us"] is None
    assert "policy alone" in tracing_overhead.report(figures)
