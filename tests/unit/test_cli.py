from __future__ import annotations

import io
from pathlib import Path

import pytest

from lambdaserve import cli
from lambdaserve.local.errors import LocalError


def test_parser_defaults() -> None:
    args = cli.parser().parse_args(["serve"])
    assert (args.host, args.port, args.lambda_port, args.s3_port) == ("127.0.0.1", 3000, 3001, 3002)
    assert args.template == "template.yaml" and not args.built
    args = cli.parser().parse_args(["invoke", "Fn", "-e", "-", "--built", "--build-dir", "b"])
    assert (args.function, args.event, args.built, args.build_dir) == ("Fn", "-", True, "b")


def test_read_json_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n}')
    with pytest.raises(LocalError, match=r"event file .*bad.json is not JSON: line 2, column 1"):
        cli._read_json(str(bad), "event file")
    with pytest.raises(LocalError, match="event file not found"):
        cli._read_json(str(tmp_path / "none.json"), "event file")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"ok": true}'))
    assert cli._read_json("-", "event file") == {"ok": True}


def test_parameter_overrides_and_env_vars(tmp_path: Path) -> None:
    assert cli._parameters(["A=1 B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(LocalError, match="Key=Value"):
        cli._parameters(["oops"])
    env = tmp_path / "env.json"
    env.write_text('{"Parameters": {"N": 1}, "Fn": {"X": "y"}}')
    assert cli._env_vars(str(env)) == {"Parameters": {"N": "1"}, "Fn": {"X": "y"}}
    env.write_text('{"Fn": "not a map"}')
    with pytest.raises(LocalError, match="--env-vars wants"):
        cli._env_vars(str(env))


def test_main_turns_local_errors_into_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["invoke", "Fn", "-t", "/nonexistent/template.yaml"]) == 2
    assert "lambdaserve: template not found" in capsys.readouterr().err
