"""Property-based tests (hypothesis): hostile input never breaks the app.

Every module here runs on every test leg. Example counts are kept small enough
for CI; ``SESSIONGUARD_FUZZ_EXAMPLES=N`` raises every property to at least
``N`` examples for a deep local run (see :func:`tests.fuzz.support.fuzzing`).
"""
