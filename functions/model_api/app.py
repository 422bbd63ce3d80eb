"""Lambda entry point of one model's API; MODEL_NAME in the environment picks the model.

The model is loaded and warmed at import, during Lambda's init phase.
"""

import gc

from mangum import Mangum

from lambdaserve import snapstart
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import Settings

app = create_model_app(Settings.from_env())
handler = Mangum(app, lifespan="off")
snapstart.install_model_function(app.state.dataplane)  # reseed, re-auth, re-warm on restore
gc.freeze()  # init's objects never change: the garbage collector stops walking them
