"""Docker-free local runtime: runs the functions of template.yaml as Lambda would.

Development only: the runtime layer's Makefile drops this package from the layer.

- template/      read the SAM template (document, intrinsics, Globals, event sources)
- runtime.py     LocalLambda: invoke a function by logical id; pools of warm environments
- environment.py one execution environment: a process running AWS's awslambdaric against
                 runtime_api.py, the Lambda Runtime API served for it (bootstrap.py sets
                 the import path first; layout.py and variables.py say what it sees)
- services.py    the local AWS services feeding events, one per event source type:
                 gateway.py (HTTP API), s3.py (moto S3 + notifications), and
                 lambda_api.py (the Invoke API)
- banner.py, samples.py  what `serve` prints, built from the template and sample events
"""
