"""Where Lambda's filesystem (/var/task, /opt/python, /opt/<content>) is on this machine.

Built mode (`.aws-sam/build`): a function's directory is /var/task and each layer's
directory is what Lambda unpacks into /opt, so `<layer>/python` joins the import path and
`<layer>/<x>` stands for /opt/<x>.

Source mode (the checkout), per layer's ContentUri:
- it has `python/`: a standard layer; laid out as in built mode;
- it has `requirements.txt` (built by pip or a Makefile): its packages are this
  environment's site-packages (editable installs included: the project's own `src/`);
- otherwise it is content: ContentUri `layers/models/` stands for /opt/models.

Both modes add what the Lambda python runtime itself provides (boto3 and its dependencies,
the runtime interface client) after the layers, and rewrite environment values under /opt
to the local directory.
"""

from __future__ import annotations

import importlib.util
import shutil
import sysconfig
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template import Function, Layer

# Lambda's python runtime ships these (/var/runtime): boto3 and its dependencies, which
# functions import without packaging them, and the runtime interface client with its own.
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "urllib3",
    "six",
    "awslambdaric",
    "runtime_client",
    "simplejson",
    "snapshot_restore_py",
)


@dataclass(frozen=True)
class Mount:
    """A function's view of Lambda's filesystem, in local directories."""

    task_root: Path
    path: tuple[tuple[str, bool], ...]  # (directory, is a site dir with .pth files)
    opt: Mapping[str, Path]  # "/opt/models" -> local directory

    def rewrite(self, value: str) -> str:
        """`/opt/models/iris` -> `<local models dir>/iris`; other values stay as they are."""
        if not value.startswith("/opt/"):
            return value
        path = PurePosixPath(value)
        for prefix in sorted(self.opt, key=len, reverse=True):
            if path == PurePosixPath(prefix) or PurePosixPath(prefix) in path.parents:
                rest = path.relative_to(prefix)
                return str(self.opt[prefix] / rest) if str(rest) != "." else str(self.opt[prefix])
        return value


class RuntimeProvided:
    """A directory holding only boto3 & co. and the runtime client (symlinks into this
    environment): what /var/runtime holds in Lambda."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="lambdaserve-runtime-"))
        for name in RUNTIME_PROVIDED:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                continue  # not installed here: the function will fail as it would without it
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (self.directory / source.name).symlink_to(source)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _python_dirs(root: Path, version: tuple[int, int]) -> list[tuple[str, bool]]:
    """Lambda's layer import paths: /opt/python/lib/python3.X/site-packages, /opt/python."""
    entries: list[tuple[str, bool]] = []
    site = root / "python" / "lib" / f"python{version[0]}.{version[1]}" / "site-packages"
    if site.is_dir():
        entries.append((str(site), False))
    if (root / "python").is_dir():
        entries.append((str(root / "python"), False))
    return entries


def _opt_entries(root: Path) -> dict[str, Path]:
    return {f"/opt/{child.name}": child for child in sorted(root.iterdir()) if child.is_dir()}


def _environment_site_dirs() -> list[tuple[str, bool]]:
    paths = sysconfig.get_paths()
    dirs = dict.fromkeys([paths["purelib"], paths["platlib"]])
    return [(d, True) for d in dirs]


def mount(
    function: Function,
    layers: Mapping[str, Layer],
    built: bool,
    version: tuple[int, int],
    provided: Path,
) -> Mount:
    """The import path and /opt directories `function` gets in the chosen mode."""
    if not function.code_uri.is_dir():
        hint = " (run `sam build` first)" if built else ""
        raise LocalError(
            f"{function.logical_id}: code directory {function.code_uri} not found{hint}"
        )
    path: list[tuple[str, bool]] = [(str(function.code_uri), False)]
    opt: dict[str, Path] = {}
    for layer_id in function.layers:
        root = layers[layer_id].content_uri
        if not root.is_dir():
            hint = " (run `sam build` first)" if built else ""
            raise LocalError(f"layer {layer_id}: directory {root} not found{hint}")
        if built or (root / "python").is_dir():
            path.extend(_python_dirs(root, version))
            opt.update(_opt_entries(root))
        elif (root / "requirements.txt").is_file():
            path.extend(_environment_site_dirs())
        else:
            opt[f"/opt/{root.name}"] = root
    path.append((str(provided), False))
    return Mount(function.code_uri, tuple(path), opt)
