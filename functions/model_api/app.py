"""Lambda entry point of one model's API; MODEL_NAME in the environment picks the model.

The model is loaded and warmed at import, during Lambda's init phase.
"""

import gc

from mangum import Mangum

from lambdaserve import snapstart
from lambdaserve.observability import logs
from lambdaserve.observability.invocation import lambda_handler
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import Settings

settings = Settings.from_env()
logs.setup(function=settings.model_name or "")  # Powertools JSON logs, imported on first use
app = create_model_app(settings)
# Each invocation's request id reaches the per-request record (README, Observability).
handler = lambda_handler(Mangum(app, lifespan="off"))
snapstart.install_model_function(app.state.dataplane)  # reseed, re-auth, re-warm on restore
gc.freeze()  # init's objects never change: the garbage collector stops walking them
