"""A function process's entry point: Lambda's /var/runtime/bootstrap for the local runtime.

Run as a script (`python -I -S -u bootstrap.py PATH_JSON HANDLER`), never imported: it
puts the function code, its layers and the runtime-provided packages on the import path,
in Lambda's order, then hands the process to AWS's runtime interface client
(`python -m awslambdaric HANDLER`, what Lambda's python3.12 runtime runs), which talks to
the Runtime API at AWS_LAMBDA_RUNTIME_API. Standard library only, so in `--built` mode the
function sees nothing but its code, its layers, boto3 and the runtime client.
"""

from __future__ import annotations

import json
import runpy
import site
import sys


def set_path(entries: list[list[object]]) -> None:
    """Code and layers first (as /var/task and /opt/python), then the standard library."""
    stdlib = list(sys.path)
    for directory, is_site_dir in entries:
        if is_site_dir:
            site.addsitedir(str(directory))  # honours .pth files (editable installs)
        elif directory not in sys.path:
            sys.path.append(str(directory))
    added = [p for p in sys.path if p not in stdlib]
    sys.path[:] = added + stdlib


def main() -> None:
    set_path(json.loads(sys.argv[1]))
    sys.argv = ["awslambdaric", sys.argv[2]]
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
