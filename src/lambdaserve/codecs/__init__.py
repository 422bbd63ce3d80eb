"""Protocol codecs: wire JSON <-> neutral `InferenceRequest` / `InferenceResponse`.

Each module knows one protocol's shapes and nothing of ONNX or HTTP frameworks.
"""
