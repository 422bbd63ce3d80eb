"""Prediction caching: a per-container LRU and an optional shared DynamoDB table.

`key` turns (model, selected version, requested outputs, input tensors) into one digest,
so the same input through any protocol shares an entry and another version never does;
`lru` and `table` store neutral outputs; the dataplane's cache stage
(`lambdaserve.dataplane.cache`) puts them in front of the model.
"""
