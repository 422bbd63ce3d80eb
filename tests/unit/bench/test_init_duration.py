"""Init Duration bench: REPORT parsing, the floor function, and the target arithmetic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from bench import init_duration
from bench.init_duration import FLOOR, Subject

REPORT = (
    "START RequestId: 1 Version: $LATEST\n"
    "END RequestId: 1\n"
    "REPORT RequestId: 1\tInit Duration: 812.34 ms\tDuration: 6.52 ms\tBilled Duration: 7 ms\t"
    "Memory Size: 1769 MB\tMax Memory Used: 86 MB\n"
)


def test_init_duration_comes_from_the_report_line() -> None:
    assert init_duration.init_duration("some log line\n" + REPORT) == 812.34


def test_a_warm_report_has_no_init_duration() -> None:
    warm = "REPORT RequestId: 2\tDuration: 1.02 ms\tBilled Duration: 2 ms\n"
    with pytest.raises(RuntimeError, match="no REPORT line with Init Duration"):
        init_duration.init_duration(warm)


def test_the_floor_imports_every_top_level_module_of_the_layers_pins(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# lock\nnumpy==2.5.5\nonnxruntime==1.32.0\ntyping_extensions==4\n")
    modules = init_duration.layer_modules(requirements)
    assert modules == ["numpy", "onnxruntime", "typing_extensions"]
    shipped = init_duration.layer_modules()
    assert {"numpy", "onnxruntime", "fastapi", "mangum", "orjson"} <= set(shipped)


def test_the_floor_function_runs_and_answers(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(init_duration.floor_code(["json", "numpy"]))
    code = "import gc, app; print(app.handler({}, None), gc.isenabled(), gc.get_freeze_count() > 0)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    # The collector as the model functions' init leaves it: on, with init's objects frozen.
    assert out.stdout.strip() == "{'statusCode': 200} True True"


def test_the_floor_imports_with_the_collector_paused_as_model_functions_do() -> None:
    floor = init_duration.floor_code(["numpy"])
    model = (init_duration.ROOT / "functions" / "model_api" / "app.py").read_text()
    for code in (floor, model):
        lines = [line.split("#")[0].strip() for line in code.splitlines()]
        first_import = next(
            i
            for i, line in enumerate(lines)
            if line.startswith(("import", "from")) and line != "import gc"
        )
        assert "gc.disable()" in lines[:first_import]
        assert lines.index("gc.freeze()") < lines.index("gc.enable()")


def test_the_floor_template_has_the_layer_and_the_memory(tmp_path: Path) -> None:
    path = tmp_path / "floor.yaml"
    path.write_text(init_duration.floor_template(tmp_path / "code", Path("/layer"), 1769))
    template = cfn_yaml.load(str(path))
    function = template["Resources"][FLOOR]["Properties"]
    assert function["MemorySize"] == 1769
    assert function["Layers"] == [{"Ref": "RuntimeLayer"}]
    assert template["Resources"]["RuntimeLayer"]["Properties"]["ContentUri"] == "/layer"


def test_model_functions_and_their_memory_come_from_the_template() -> None:
    functions = init_duration.model_functions()
    assert functions["BreastCancerFunction"] == 1769
    assert FLOOR not in functions and "IndexFunction" not in functions


def subject(key: str, function: str, inits: list[float]) -> Subject:
    return Subject(key, key, function, [], Path("event.json"), inits)


def test_the_target_is_the_slowest_function_against_its_own_floor() -> None:
    found = [
        subject("floor", FLOOR, [700.0, 720.0, 710.0]),  # median 710
        subject("IrisFunction", "IrisFunction", [760.0, 770.0, 780.0]),  # 770 / 710 = 1.085
        subject("DigitsFunction", "DigitsFunction", [800.0, 790.0, 810.0]),  # 800 / 710 = 1.127
        subject("floor_built", FLOOR, [600.0]),
        subject("IrisFunction_built", "IrisFunction", [700.0]),  # 700 / 600 = 1.167
    ]
    section = init_duration.section(found)
    (target,) = section.targets
    assert target.key == "init_vs_import_floor"
    assert target.ratio == pytest.approx(700 / 600)
    assert target.baseline == 600.0
    assert not target.passed
    ratios = {row[0]: row[-1] for row in section.tables[0].rows}
    assert ratios["DigitsFunction"] == pytest.approx(800 / 710)
    assert ratios["floor"] == 1.0
    found.pop()
    assert init_duration.section(found).targets[0].passed
