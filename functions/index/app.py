"""Lambda entry point of the index function: server-wide routes and API Gateway's catch-all.

TF Serving colon paths (`/v1/models/iris:predict`) cannot have their own route key, so
they arrive here and are forwarded to the model's own function.

As in the model functions, the garbage collector is paused for init (a full collection
would walk every imported object) and init's objects are frozen before it resumes.
"""

import gc

gc.disable()

from typing import Any  # noqa: E402 (imported with the collector paused, see above)

from lambdaserve.forward import Forwarder  # noqa: E402
from lambdaserve.observability import logs  # noqa: E402
from lambdaserve.rest.adapter import lambda_adapter  # noqa: E402
from lambdaserve.rest.app import create_index_app  # noqa: E402
from lambdaserve.settings import Settings  # noqa: E402

settings = Settings.from_env()
logs.setup(function="index")  # Powertools JSON logs, imported on first use
app = create_index_app(settings)
_http = lambda_adapter(app)
_forward = Forwarder.from_json(settings.model_functions, settings.model_function_alias)
gc.freeze()  # init's objects never change: the garbage collector stops walking them
gc.enable()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    function = _forward.target(event)
    if function is not None:
        return _forward(function, event)
    return _http(event, context)
