"""Protocol codecs: wire bytes <-> neutral `InferenceRequest` / `InferenceResponse`.

Each module (simple, tfserving, v2) knows one protocol's shapes and nothing of ONNX or HTTP
frameworks, and keeps the one contract of `contract.py`: `decode(body, values, manifest)`
and `encode(response, decoded, manifest) -> Encoded`.
"""
