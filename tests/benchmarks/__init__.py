"""Benchmarks, not tests: modules are named ``bench_*.py``, which pytest ignores.

``python -m tests.benchmarks`` (``make bench``) compares Django's session
engines with ours on its own settings (:mod:`.settings`); other ``bench_*``
modules are run by name (``python -m tests.benchmarks.bench_<name>``).
"""
