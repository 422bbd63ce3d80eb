"""`python -m bench`: lambdaserve's benchmarks, measured in one run against baselines.

Every figure is a ratio against a baseline measured in the same process or run, on the
same machine, so a noisy or slow machine moves both sides together.
"""
