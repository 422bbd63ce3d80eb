"""Package size: unzipped bytes of each function plus its layers after `sam build`."""

from __future__ import annotations

from bench import fixtures
from bench.budget import Budget
from bench.report import Section, Table, Target

LIMIT_MB = 250.0  # Lambda: function + layers, unzipped
TARGET_MB = 200.0


def run(budget: Budget) -> Section:
    if budget.quick:
        return Section("size", "5. Package size", skipped="quick run (no sam build)")
    import package_size  # scripts/, on sys.path via fixtures

    build = fixtures.sam_build()
    sizes = package_size.measure(build=build)
    return section(sizes, _layer_breakdown(build))


def _layer_breakdown(build: fixtures.Path, top: int = 8) -> list[tuple[str, float]]:
    from package_size import dir_bytes

    python = build / "RuntimeLayer" / "python"
    if not python.is_dir():
        return []
    found = [(p.name, dir_bytes(p) / 1e6) for p in python.iterdir() if p.is_dir()]
    return sorted(found, key=lambda kv: -kv[1])[:top]


def section(sizes: dict[str, dict[str, float]], runtime: list[tuple[str, float]]) -> Section:
    worst_name, worst = max(((n, mb["total"]) for n, mb in sizes.items()), key=lambda kv: kv[1])
    rows = [
        [name, mb["total"], ", ".join(f"{k} {v}" for k, v in mb.items() if k != "total")]
        for name, mb in sizes.items()
    ]
    return Section(
        "size",
        "5. Package size (unzipped, after `sam build`)",
        targets=[
            Target(
                "package_size",
                f"Largest function + layers, unzipped ({worst_name})",
                worst,
                "Lambda limit",
                LIMIT_MB,
                "MB",
                worst,
                "<=",
                TARGET_MB,
                "MB",
            )
        ],
        tables=[
            Table("Per function (MB)", ["function", "total", "parts"], rows),
            Table(
                "Runtime layer, largest packages (MB)",
                ["package", "MB"],
                [[n, round(mb, 1)] for n, mb in runtime],
            ),
        ],
        notes=[
            "The runtime layer ships precompiled .pyc (Lambda cannot write them at run time) "
            "and leaves out onnxruntime's tooling (transformers, quantization, tools).",
        ],
        data={"functions": sizes, "runtime_layer_mb": dict(runtime)},
    )
