"""The environment variables of a function's process: Lambda's own, then the template's.

Credentials are local stand-ins, never the caller's; values under /opt are rewritten to the
local directory that stands for them; `endpoints` point AWS SDKs at the local services.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from lambdaserve.local.layout import Mount
from lambdaserve.local.template import Function


def lambda_environment(
    function: Function,
    mount: Mount,
    region: str,
    runtime_dir: Path,
    endpoints: Mapping[str, str] = {},
    initialization_type: str = "on-demand",
) -> dict[str, str]:
    """Lambda's reserved variables, the function's variables, then the local endpoints."""
    stream = time.strftime("%Y/%m/%d") + f"/[$LATEST]{uuid.uuid4().hex}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(mount.task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_SAM_LOCAL": "true",
        # Local stand-ins only: never the caller's real credentials or profile.
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    if function.log_format:
        env["AWS_LAMBDA_LOG_FORMAT"] = function.log_format
    if function.log_level:
        env["AWS_LAMBDA_LOG_LEVEL"] = function.log_level
    env.update({k: mount.rewrite(v) for k, v in function.environment.items()})
    env.update(endpoints)
    return env
