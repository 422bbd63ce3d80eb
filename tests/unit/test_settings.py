"""Settings: every environment variable in one place, with defaults and strict parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve import settings
from lambdaserve.settings import SIX_MB, SOURCE_MODEL_REPOSITORY, Settings

ENV_VARS = (
    "LAMBDASERVE_MODEL_REPOSITORY",
    "MODEL_NAME",
    "LAMBDASERVE_MAX_BODY_BYTES",
    "LAMBDASERVE_INTRA_OP_THREADS",
    "LAMBDASERVE_INTER_OP_THREADS",
    "LAMBDASERVE_MODEL_FUNCTIONS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def test_source_repository_is_the_checkout_models_layer() -> None:
    assert SOURCE_MODEL_REPOSITORY.is_dir()
    assert (SOURCE_MODEL_REPOSITORY / "iris" / "1" / "model.onnx").is_file()


def test_defaults_without_environment() -> None:
    s = Settings.from_env()
    # This machine has no /opt/models, so the checkout's repository is used.
    assert s.model_repository == SOURCE_MODEL_REPOSITORY
    assert s.model_name is None
    assert s.max_body_bytes == SIX_MB == 6 * 1024 * 1024
    assert s.intra_op_threads == 1
    assert s.inter_op_threads == 1
    assert s.model_functions == "{}"
    assert Settings() == s


def test_lambda_layer_path_wins_when_mounted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(settings, "LAMBDA_MODEL_REPOSITORY", tmp_path)
    assert Settings.from_env().model_repository == tmp_path
    monkeypatch.setattr(settings, "LAMBDA_MODEL_REPOSITORY", tmp_path / "absent")
    assert Settings.from_env().model_repository == SOURCE_MODEL_REPOSITORY


def test_every_variable_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAMBDASERVE_MODEL_REPOSITORY", f"  {tmp_path}  ")
    monkeypatch.setenv("MODEL_NAME", " iris ")
    monkeypatch.setenv("LAMBDASERVE_MAX_BODY_BYTES", "1024")
    monkeypatch.setenv("LAMBDASERVE_INTRA_OP_THREADS", " 0 ")
    monkeypatch.setenv("LAMBDASERVE_INTER_OP_THREADS", "2")
    monkeypatch.setenv("LAMBDASERVE_MODEL_FUNCTIONS", '{"iris": "fn-iris"}')
    s = Settings.from_env()
    assert s.model_repository == tmp_path
    assert s.model_name == "iris"
    assert s.max_body_bytes == 1024
    assert s.intra_op_threads == 0
    assert s.inter_op_threads == 2
    assert s.model_functions == '{"iris": "fn-iris"}'


@pytest.mark.parametrize("var", ["LAMBDASERVE_MODEL_REPOSITORY", "MODEL_NAME"])
def test_blank_values_fall_back_to_defaults(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    monkeypatch.setenv(var, "   ")
    s = Settings.from_env()
    assert s.model_repository == SOURCE_MODEL_REPOSITORY
    assert s.model_name is None


@pytest.mark.parametrize(
    "var",
    [
        "LAMBDASERVE_MAX_BODY_BYTES",
        "LAMBDASERVE_INTRA_OP_THREADS",
        "LAMBDASERVE_INTER_OP_THREADS",
    ],
)
def test_integer_variables(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    field = {
        "LAMBDASERVE_MAX_BODY_BYTES": "max_body_bytes",
        "LAMBDASERVE_INTRA_OP_THREADS": "intra_op_threads",
        "LAMBDASERVE_INTER_OP_THREADS": "inter_op_threads",
    }[var]
    default = getattr(Settings(), field)
    monkeypatch.setenv(var, "")
    assert getattr(Settings.from_env(), field) == default
    monkeypatch.setenv(var, "7")
    assert getattr(Settings.from_env(), field) == 7
    monkeypatch.setenv(var, "six")
    with pytest.raises(ValueError, match=f"{var} must be an integer, got 'six'"):
        Settings.from_env()


def test_settings_are_immutable() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.model_name = "iris"  # type: ignore[misc]


def test_batch_parse_process_defaults_to_multi_cpu_and_can_be_forced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LAMBDASERVE_BATCH_PARSE_PROCESS", raising=False)
    for cpus, expected in (({0}, False), ({0, 1}, True)):
        monkeypatch.setattr(settings.os, "sched_getaffinity", lambda _pid, c=cpus: c)
        assert Settings.from_env().batch_parse_process is expected
        assert Settings().batch_parse_process is expected
    for raw, expected in ((" 1 ", True), ("on", True), ("0", False), ("false", False)):
        monkeypatch.setenv("LAMBDASERVE_BATCH_PARSE_PROCESS", raw)
        assert Settings.from_env().batch_parse_process is expected
    monkeypatch.setenv("LAMBDASERVE_BATCH_PARSE_PROCESS", "maybe")
    with pytest.raises(ValueError, match="LAMBDASERVE_BATCH_PARSE_PROCESS must be 1 or 0"):
        Settings.from_env()


def test_model_function_alias_is_read_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDASERVE_MODEL_FUNCTION_ALIAS", " live ")
    assert Settings.from_env().model_function_alias == "live"
    monkeypatch.delenv("LAMBDASERVE_MODEL_FUNCTION_ALIAS")
    assert Settings.from_env().model_function_alias == ""


def test_observability_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings.from_env()
    assert (defaults.metrics, defaults.capture_percent, defaults.capture_privacy) == (
        True,
        0.0,
        "full",
    )
    assert (defaults.feedback_table, defaults.feedback_ttl_days) == ("", 30)
    for var, value in {
        "LAMBDASERVE_METRICS": "0",
        "LAMBDASERVE_CAPTURE_PERCENT": "12.5",
        "LAMBDASERVE_CAPTURE_PRIVACY": "hash",
        "LAMBDASERVE_CAPTURE_SALT": "s3cret-s3cret-s3cret",
        "LAMBDASERVE_FEEDBACK_TABLE": " lambdaserve-feedback ",
        "LAMBDASERVE_FEEDBACK_TTL_DAYS": "7",
        "LAMBDASERVE_FEEDBACK_TIMEOUT_MS": "100",
    }.items():
        monkeypatch.setenv(var, value)
    s = Settings.from_env()
    assert (s.metrics, s.capture_percent, s.capture_privacy) == (False, 12.5, "hash")
    assert s.capture_salt == "s3cret-s3cret-s3cret" and "s3cret" not in repr(s)
    assert (s.feedback_table, s.feedback_ttl_days, s.feedback_timeout_ms) == (
        "lambdaserve-feedback",
        7,
        100,
    )
    monkeypatch.setenv("LAMBDASERVE_CAPTURE_PERCENT", "ten")
    with pytest.raises(ValueError, match="LAMBDASERVE_CAPTURE_PERCENT must be a number"):
        Settings.from_env()
    monkeypatch.setenv("LAMBDASERVE_CAPTURE_PERCENT", "1")
    monkeypatch.setenv("LAMBDASERVE_METRICS", "sometimes")
    with pytest.raises(ValueError, match="LAMBDASERVE_METRICS must be 1 or 0"):
        Settings.from_env()


def test_request_limits_default_and_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDASERVE_MAX_ROWS", raising=False)
    monkeypatch.delenv("LAMBDASERVE_MAX_JSON_DEPTH", raising=False)
    s = Settings.from_env()
    assert (s.max_rows, s.max_json_depth) == (10_000, 32)
    monkeypatch.setenv("LAMBDASERVE_MAX_ROWS", "500")
    monkeypatch.setenv("LAMBDASERVE_MAX_JSON_DEPTH", " 8 ")
    s = Settings.from_env()
    assert (s.max_rows, s.max_json_depth) == (500, 8)


def test_traffic_override_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDASERVE_TRAFFIC_PARAMETER", raising=False)
    monkeypatch.delenv("LAMBDASERVE_TRAFFIC_TTL_SECONDS", raising=False)
    s = Settings.from_env()
    assert s.traffic_parameter is None and s.traffic_ttl_seconds == 10
    monkeypatch.setenv("LAMBDASERVE_TRAFFIC_PARAMETER", " /lambdaserve/prod/iris/traffic ")
    monkeypatch.setenv("LAMBDASERVE_TRAFFIC_TTL_SECONDS", "3")
    s = Settings.from_env()
    assert s.traffic_parameter == "/lambdaserve/prod/iris/traffic"
    assert s.traffic_ttl_seconds == 3
    monkeypatch.setenv("LAMBDASERVE_TRAFFIC_PARAMETER", "  ")
    assert Settings.from_env().traffic_parameter is None
