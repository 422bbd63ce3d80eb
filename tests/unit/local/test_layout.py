from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from lambdaserve.local import layout, template
from lambdaserve.local.errors import LocalError

ROOT = Path(__file__).resolve().parents[3]


def test_rewrite_maps_opt_prefixes_only() -> None:
    mount = layout.Mount(Path("/task"), (), {"/opt/models": Path("/here/models")})
    assert mount.rewrite("/opt/models") == "/here/models"
    assert mount.rewrite("/opt/models/iris/1") == "/here/models/iris/1"
    assert mount.rewrite("/opt/modelsX") == "/opt/modelsX"  # a different directory
    assert mount.rewrite("/opt/other") == "/opt/other"
    assert mount.rewrite("relative/opt/models") == "relative/opt/models"


def test_runtime_provided_holds_boto3_and_nothing_else() -> None:
    provided = layout.RuntimeProvided()
    try:
        names = {p.name for p in provided.directory.iterdir()}
        assert {"boto3", "botocore", "s3transfer", "six.py"} <= names
        assert "numpy" not in names and "yaml" not in names
    finally:
        provided.close()
    assert not provided.directory.exists()


def test_source_mode_maps_the_real_layers() -> None:
    real = template.load(ROOT / "template.yaml")
    mount = layout.mount(
        real.function("IrisFunction"), real.layers, False, (3, 12), Path("/provided")
    )
    assert mount.task_root == ROOT / "functions" / "model_api"
    assert mount.path[0] == (str(ROOT / "functions" / "model_api"), False)
    # RuntimeLayer (built from requirements.txt) is this environment's site-packages.
    assert (sysconfig.get_paths()["purelib"], True) in mount.path
    assert mount.path[-1] == ("/provided", False)
    # ModelsLayer's content is /opt/models.
    assert mount.opt["/opt/models"] == ROOT / "layers" / "models"


def test_standard_layer_with_python_dir(tmp_path: Path) -> None:
    (tmp_path / "lib" / "python" / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    (tmp_path / "lib" / "bin").mkdir()
    (tmp_path / "code").mkdir()
    fn = template.Function("F", "app.h", "python3.12", tmp_path / "code", layers=("Lib",))
    layers = {"Lib": template.Layer("Lib", tmp_path / "lib")}
    mount = layout.mount(fn, layers, False, (3, 12), tmp_path)
    site = tmp_path / "lib" / "python" / "lib" / "python3.12" / "site-packages"
    assert [p for p, _ in mount.path] == [
        str(tmp_path / "code"),
        str(site),
        str(tmp_path / "lib" / "python"),
        str(tmp_path),
    ]
    assert mount.opt["/opt/bin"] == tmp_path / "lib" / "bin"


def test_missing_directories_say_what_to_do(tmp_path: Path) -> None:
    fn = template.Function("F", "app.h", "python3.12", tmp_path / "nope")
    with pytest.raises(LocalError, match=r"code directory .* not found \(run `sam build` first\)"):
        layout.mount(fn, {}, True, (3, 12), tmp_path)
