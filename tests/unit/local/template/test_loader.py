"""The loader on the real template and small ones: Globals, layers, events, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.errors import LocalError

from .texts import FUNCTION, write

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def real() -> template.Template:
    return template.load(ROOT / "template.yaml")


def test_real_template_functions_get_globals_and_their_own_overrides(
    real: template.Template,
) -> None:
    index = real.function("IndexFunction")
    assert index.timeout == 15  # from Globals
    assert index.memory == 512  # the function's own value wins
    assert index.runtime == "python3.12"
    assert index.handler == "app.handler"
    assert index.code_uri == ROOT / "functions" / "index"
    assert index.layers == ("RuntimeLayer", "ModelsLayer")
    assert index.log_format == "JSON"
    assert index.log_level == "INFO"


def test_environment_merges_globals_and_resolves_refs_and_subs(real: template.Template) -> None:
    iris = real.function("IrisFunction").environment
    assert iris["MODEL_NAME"] == "iris"
    assert iris["LAMBDASERVE_MODEL_REPOSITORY"] == "/opt/models"
    assert iris["LAMBDASERVE_MAX_BODY_BYTES"] == "6291456"  # !Ref to a parameter default
    functions = real.function("IndexFunction").environment["LAMBDASERVE_MODEL_FUNCTIONS"]
    # A function's local name is its logical id: the forwarder invokes these names.
    assert '"iris":"IrisFunction"' in functions
    assert '"digits":"DigitsFunction"' in functions


def test_layers_and_routes(real: template.Template) -> None:
    assert real.layers["ModelsLayer"].content_uri == ROOT / "layers" / "models"
    assert real.layers["RuntimeLayer"].build_method == "makefile"
    keys = {(r.key, r.function) for r in real.routes}
    assert ("ANY /{proxy+}", "IndexFunction") in keys
    assert ("ANY /v1/models/iris/{proxy+}", "IrisFunction") in keys
    assert ("GET /health", "IndexFunction") in keys


def test_unknown_function_names_the_known_ones(real: template.Template) -> None:
    with pytest.raises(LocalError, match=r"unknown function 'Nope'.*IrisFunction"):
        real.function("Nope")


def test_small_template_parameters_subs_and_list_globals(
    small_template: template.Template, project: Path
) -> None:
    echo = small_template.function("Echo")
    assert echo.environment["GREETING"] == "hello"
    assert echo.environment["TARGET"] == '{"boom":"Boom"}'
    assert echo.code_uri == project.parent / "code"
    assert echo.layers == ("DataLayer",)
    assert echo.timeout == 10 and echo.memory == 256
    assert small_template.function("Sleepy").timeout == 1


def test_parameter_overrides(project: Path) -> None:
    loaded = template.load(project, parameters={"Greeting": "bonjour"})
    assert loaded.function("Echo").environment["GREETING"] == "bonjour"


def test_unresolvable_things_are_named(tmp_path: Path) -> None:
    env = f"Resources:\n{FUNCTION}      Environment:\n        Variables:\n"
    with pytest.raises(LocalError, match=r"Fn\.Environment\.X: !Ref Ghost"):
        template.load(write(tmp_path, env + "          X: !Ref Ghost\n"))
    with pytest.raises(LocalError, match="Fn::ImportValue cannot be resolved locally"):
        template.load(write(tmp_path, env + "          X: !ImportValue y\n"))
    text = f"Resources:\n{FUNCTION}      Layers: [arn:aws:lambda:us-east-1:1:layer:x:1]\n"
    with pytest.raises(LocalError, match="not a layer of this template"):
        template.load(write(tmp_path, text))


def test_non_python_runtime_is_refused(tmp_path: Path) -> None:
    text = f"Resources:\n{FUNCTION}".replace("python3.12", "nodejs20.x")
    with pytest.raises(LocalError, match="not a python runtime"):
        _ = template.load(write(tmp_path, text)).function("Fn").python_version


def test_snap_start_follows_the_resolved_apply_on() -> None:
    on = template.load(ROOT / "template.yaml", parameters={"SnapStart": "PublishedVersions"})
    off = template.load(ROOT / "template.yaml")
    assert on.function("IrisFunction").snap_start
    assert not off.function("IrisFunction").snap_start
    assert not on.function("IndexFunction").snap_start  # no SnapStart property


def test_ssm_parameters_and_tables_follow_their_conditions() -> None:
    default = template.load(ROOT / "template.yaml")
    assert default.ssm_parameters["/lambdaserve/lambdaserve/iris/traffic"] == "{}"
    assert default.tables == {}  # SharedCache and feedback are off by default
    on = template.load(
        ROOT / "template.yaml", parameters={"SharedCache": "Enabled", "FeedbackEnabled": "true"}
    )
    cache = on.tables["PredictionCacheTable"]
    assert cache.key_schema == ({"AttributeName": "key", "KeyType": "HASH"},)
    assert cache.attributes == ({"AttributeName": "key", "AttributeType": "B"},)
    assert cache.ttl_attribute == "expires_at"
    # The functions name the same tables the local stores create.
    iris = on.function("IrisFunction").environment
    assert iris["LAMBDASERVE_CACHE_TABLE"] in on.tables
    assert iris["LAMBDASERVE_FEEDBACK_TABLE"] in on.tables


def test_a_parameter_without_a_string_value_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Knob:\n    Type: AWS::SSM::Parameter\n"
        "    Properties: {Name: /x, Type: String}\n"
    )
    with pytest.raises(LocalError, match="Knob: an SSM parameter needs a Name and a string Value"):
        template.load(path)
