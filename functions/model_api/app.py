"""Lambda entry point of one model's API; MODEL_NAME in the environment picks the model.

The model is loaded and warmed at import, during Lambda's init phase. The garbage
collector is paused for all of init: what init allocates lives as long as the process, so
each collection would only walk the imported packages' objects again (a full one is ~0.1 s
of CPU, on a function that gets a fraction of a vCPU). At the end they are frozen (later
collections skip them) and collection resumes for the requests' own garbage.
"""

import gc

gc.disable()

from lambdaserve import snapstart  # noqa: E402 (imported with the collector paused, see above)
from lambdaserve.observability import logs  # noqa: E402
from lambdaserve.observability.invocation import lambda_handler  # noqa: E402
from lambdaserve.rest.adapter import lambda_adapter  # noqa: E402
from lambdaserve.rest.app import create_model_app  # noqa: E402
from lambdaserve.settings import Settings  # noqa: E402

settings = Settings.from_env()
logs.setup(function=settings.model_name or "")  # Powertools JSON logs, imported on first use
app = create_model_app(settings)
# Each invocation's request id reaches the per-request record (README, Observability).
handler = lambda_handler(lambda_adapter(app))
snapstart.install_model_function(app.state.dataplane)  # reseed, re-auth, re-warm on restore
gc.freeze()  # init's objects never change: the garbage collector stops walking them
gc.enable()
