"""Lambda entry point of one model's API; MODEL_NAME in the environment picks the model.

The model is loaded and warmed at import, during Lambda's init phase.
"""

import gc

from mangum import Mangum

from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import Settings

app = create_model_app(Settings.from_env())
handler = Mangum(app, lifespan="off")
gc.freeze()  # init's objects never change: the garbage collector stops walking them
