"""Baseline (a), the floor: the least a FastAPI app under Mangum can do for a POST.

No body read, no model: whatever lambdaserve adds on top of this is our own overhead.
"""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.post("/predict")
async def predict() -> dict[str, int]:
    return {"prediction": 0}


handler = Mangum(app, lifespan="off")
