"""lambdaserve: serve ONNX models on AWS Lambda."""

__version__ = "0.1.0"
