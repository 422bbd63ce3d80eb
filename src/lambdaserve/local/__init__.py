"""Docker-free local runtime: runs the functions of template.yaml as Lambda would.

Development only: the runtime layer's Makefile drops this package from the layer.
"""
