"""Streaming predictions: SQS messages and Kinesis records, scored grouped by model version.

messages (event -> messages) -> request (JSON body -> routing + rows) -> grouping (by
model and concrete version) -> scoring (one onnxruntime call per group, through the
dataplane) -> results (one result document per message) -> sinks (SQS output queue,
optional EventBridge bus) -> processor (Powertools' batch utility reports the messages a
sink could not take, so only they are retried).
"""
