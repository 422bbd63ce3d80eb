"""Fresh-process probe: import a Lambda entry module, answer one event, print the timings.

Run as a script (stdlib only, nothing from bench), so the process imports exactly what
the function would: `python cold_probe.py <code dir> <module> <event.json>`.
"""

import time

STARTED = time.monotonic()  # the interpreter is up; everything before is startup

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


def main() -> None:
    code_dir, module_name, event_path = sys.argv[1:4]
    sys.path.insert(0, code_dir)
    init_start = time.monotonic()
    module = importlib.import_module(module_name)  # Lambda's init phase
    init_end = time.monotonic()
    with open(event_path) as f:
        event = json.load(f)
    invoke_start = time.monotonic()
    response = module.handler(event, None)
    done = time.monotonic()
    print(
        json.dumps(
            {
                "started": STARTED,
                "init_start": init_start,
                "init_end": init_end,
                "invoke_start": invoke_start,
                "response": done,
                "status": response.get("statusCode"),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
