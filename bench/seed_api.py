"""Baseline (c): the reference document's FastAPI snippet, as written, under Mangum.

Only the pickle path differs (SEED_MODEL_PATH instead of 'model.pkl'), so the bench can
point it at a scikit-learn model trained for the run. Not part of lambdaserve.
"""

import os

import joblib
import numpy as np
from fastapi import FastAPI, HTTPException
from mangum import Mangum
from pydantic import BaseModel

# Load model
model = joblib.load(os.environ.get("SEED_MODEL_PATH", "model.pkl"))

app = FastAPI(title="ML Model API")


class PredictionRequest(BaseModel):
    features: list[float]


class PredictionResponse(BaseModel):
    prediction: float
    probability: float = None  # type: ignore[assignment]  # as in the seed


@app.post("/predict", response_model=PredictionResponse)
async def predict(request: PredictionRequest):  # type: ignore[no-untyped-def]
    """Make prediction"""
    try:
        # Prepare input
        X = np.array(request.features).reshape(1, -1)

        # Predict
        prediction = model.predict(X)[0]

        # Get probability if available
        probability = None
        if hasattr(model, "predict_proba"):
            probability = float(model.predict_proba(X)[0].max())

        return PredictionResponse(prediction=float(prediction), probability=probability)

    except Exception as e:
        raise HTTPException(status_code=500, detail=str(e)) from e


@app.get("/health")
async def health():  # type: ignore[no-untyped-def]
    """Health check"""
    return {"status": "healthy"}


@app.get("/model/info")
async def model_info():  # type: ignore[no-untyped-def]
    """Model information"""
    return {
        "model_type": type(model).__name__,
        "features": model.n_features_in_ if hasattr(model, "n_features_in_") else None,
    }


handler = Mangum(app, lifespan="off")
