"""Metric names, units and dimensions: the vocabulary alarms, dashboards and other stages share.

Every metric lives in the `lambdaserve` namespace with two dimension sets: `model` (what a
per-model alarm or dashboard row watches, whatever versions are live) and `model`+`version`
(what a canary comparison watches). Change a name here and in template.yaml together.
"""

from __future__ import annotations

NAMESPACE = "lambdaserve"

MODEL = "model"
VERSION = "version"
# Both sets on every record; a record without a known version (e.g. the caller named a
# version that does not exist) uses only the first, so callers cannot mint dimension values.
BY_MODEL: tuple[str, ...] = (MODEL,)
BY_VERSION: tuple[str, ...] = (MODEL, VERSION)

COUNT = "Count"
MILLISECONDS = "Milliseconds"
SECONDS = "Seconds"
NONE = "None"

# Requests (one record per predict/infer/classify/regress call)
REQUESTS = "Requests"
ERRORS_4XX = "Errors4xx"
ERRORS_5XX = "Errors5xx"
LATENCY = "Latency"  # request start to encoded answer
INFERENCE_LATENCY = "InferenceLatency"  # the dataplane's stages and the model
COLD_START = "ColdStart"
CACHE_HITS = "CacheHits"
CACHE_MISSES = "CacheMisses"
CAPTURED = "Captured"
FEEDBACK_STORE_ERRORS = "FeedbackStoreErrors"

# Shadow comparisons (issue 12): one record per shadowed request
SHADOW_COMPARISONS = "ShadowComparisons"
SHADOW_AGREEMENT = "ShadowAgreement"  # classifiers: fraction of rows with the same class
SHADOW_ABSOLUTE_DIFFERENCE = "ShadowAbsoluteDifference"  # regressors: mean |primary - shadow|
SHADOW_ERRORS = "ShadowErrors"
SHADOW_TIMEOUTS = "ShadowTimeouts"
SHADOW_LATENCY = "ShadowLatency"

# Ground-truth feedback: the model-quality metrics a canary alarm watches
FEEDBACK = "Feedback"  # rows with a ground truth
PREDICTION_CORRECT = "PredictionCorrect"  # classifiers: 1 or 0 per row; Average = accuracy
ABSOLUTE_ERROR = "AbsoluteError"  # regressors: |prediction - actual| per row

# Batch jobs (one record per job)
BATCH_JOBS = "BatchJobs"
BATCH_JOB_FAILURES = "BatchJobFailures"
BATCH_ROWS_READ = "BatchRowsRead"
BATCH_ROWS_PREDICTED = "BatchRowsPredicted"
BATCH_ROWS_FAILED = "BatchRowsFailed"
BATCH_JOB_DURATION = "BatchJobDuration"
