"""Monitoring, prediction capture and ground-truth feedback (issue 14).

Everything here writes JSON lines to standard output (the function's CloudWatch Logs
stream) and never calls a network API on the request path:

- `names`: the metric vocabulary (namespace `lambdaserve`, dimensions `model` and
  `model`+`version`) that alarms, the dashboard and other stages share.
- `emf`: lean Embedded Metric Format documents (one line = metrics + structured log).
- `capture`: SageMaker Data Capture records, sampling and the input privacy modes.
- `shadow`: `ShadowOutcome`, `compare` and `record_shadow` for the shadow stage.
"""
