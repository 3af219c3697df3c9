"""A database error while recording activity never fails the request.

The activity touch runs after the response is built; if its ``UPDATE`` fails
(a lock held too long, a statement timeout, a lost connection) the error is
logged without the session key and the response goes out unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import DatabaseError, connection

from django_sessionguard.models import Session
from tests.faults.conftest import cookie, log_in, warnings_logged

pytestmark = pytest.mark.faults

Browser = Callable[..., Any]

TOUCH_FAILED = "Could not record session activity"


def is_touch(sql: str) -> bool:
    """The activity touch: an UPDATE of the session table's activity columns only."""
    return (
        sql.lstrip().upper().startswith("UPDATE")
        and Session._meta.db_table in sql
        and "last_activity" in sql
        and "session_data" not in sql
    )


@pytest.fixture
def every_request_is_activity(settings: Any) -> None:
    settings.SESSIONGUARD_ACTIVITY_INTERVAL = 0


# Transactional, as a real request is: the touch runs after the view, in
# autocommit (docs/faults.md covers a project that wraps middleware in a
# transaction).
@pytest.mark.django_db(transaction=True)
def test_a_failing_touch_update_is_logged_and_the_request_answers(
    engine: str,
    browser: Browser,
    user: Any,
    caplog: pytest.LogCaptureFixture,
    every_request_is_activity: None,
) -> None:
    client = browser()
    log_in(client)
    failed: list[str] = []

    def fail_the_touch(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if is_touch(sql):
            failed.append(sql)
            raise DatabaseError("could not write (injected)")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_the_touch):
        response = client.get("/read/")

    assert failed, "the request made no activity UPDATE"
    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert warnings_logged(caplog, TOUCH_FAILED) == 1
    assert client.get("/read/").json()["user"] == "alice"


def other_connection() -> Any:
    """A second connection to the test database, outside Django's (its own
    transaction, not in autocommit)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "mysql":
        import MySQLdb  # type: ignore[import-untyped]

        return MySQLdb.connect(
            host=settings_dict["HOST"],
            port=int(settings_dict["PORT"]),
            user=settings_dict["USER"],
            password=settings_dict["PASSWORD"],
            database=settings_dict["NAME"],
        )
    import psycopg

    return psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
    )


@contextmanager
def row_locked_elsewhere(key_hash: str) -> Iterator[None]:
    """Another connection holds the session row's lock (``SELECT ... FOR UPDATE``)."""
    other = other_connection()
    table = connection.ops.quote_name(Session._meta.db_table)
    try:
        cursor = other.cursor()
        try:
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE key_hash = %s FOR UPDATE",  # noqa: S608 (our table)
                [key_hash],
            )
            assert cursor.fetchone() is not None
        finally:
            cursor.close()
        yield
    finally:
        other.rollback()
        other.close()


@pytest.mark.services("postgres")
@pytest.mark.django_db(transaction=True)
def test_a_touch_cancelled_by_statement_timeout_is_logged_and_the_request_answers(
    engine: str,
    browser: Browser,
    user: Any,
    caplog: pytest.LogCaptureFixture,
    every_request_is_activity: None,
) -> None:
    from django_sessionguard.keys import hash_key

    client = browser()
    log_in(client)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 300")  # milliseconds
    try:
        with row_locked_elsewhere(hash_key(cookie(client))):
            response = client.get("/read/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")

    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert warnings_logged(caplog, TOUCH_FAILED) == 1
    record = next(r for r in caplog.records if TOUCH_FAILED in r.getMessage())
    assert record.exc_info is not None
    assert "statement timeout" in str(record.exc_info[1])
    assert client.get("/read/").json()["user"] == "alice"


@pytest.mark.services("mysql")
@pytest.mark.django_db(transaction=True)
def test_a_touch_that_times_out_waiting_for_the_row_lock_is_logged_and_answers(
    engine: str,
    browser: Browser,
    user: Any,
    caplog: pytest.LogCaptureFixture,
    every_request_is_activity: None,
) -> None:
    """MySQL/MariaDB: the touch waits for the row lock, then InnoDB gives up
    (``innodb_lock_wait_timeout``, error 1205; MySQL has no statement timeout
    for an UPDATE). The failed statement alone is rolled back."""
    from django_sessionguard.keys import hash_key

    client = browser()
    log_in(client)
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")  # s, the minimum
    try:
        with row_locked_elsewhere(hash_key(cookie(client))):
            response = client.get("/read/")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT")

    assert response.status_code == 200
    assert response.json()["user"] == "alice"
    assert warnings_logged(caplog, TOUCH_FAILED) == 1
    record = next(r for r in caplog.records if TOUCH_FAILED in r.getMessage())
    assert record.exc_info is not None
    assert "Lock wait timeout exceeded" in str(record.exc_info[1])
    assert client.get("/read/").json()["user"] == "alice"
