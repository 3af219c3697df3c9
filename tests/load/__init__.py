"""The load/fuzz run: the example project under gunicorn, hit by 10,000 requests.

``python -m tests.load`` (or ``make load``) creates and migrates a PostgreSQL
database, serves ``example_project`` with gunicorn (several worker processes,
loopback only) on ``cached_db`` with Redis, signs users in, fires a mix of
ordinary and hostile requests from concurrent client threads, and checks
every answer and, at the end, the database against what the clients did.
See ``docs/load.md``.
"""
