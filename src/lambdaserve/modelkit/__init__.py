"""Model tooling for the repository: `lambdaserve add-model / remove-model / models / check`.

Developer-side only (scikit-learn, skl2onnx, onnxmltools, ruamel.yaml): never shipped in
the Lambda runtime layer. The model repository stays the single source of truth; the
template and the sample events are made to follow it.
"""
