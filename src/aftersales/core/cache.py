"""The database cache of the embedded default, with counting that is atomic across processes.

Django's database cache increments by reading and then writing the value, so two web processes
counting the same rate-limit window can both read 7 and both write 8. Here counters are plain
integers in the value column, changed by one SQL statement each: ``count_in_window`` is an
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35 and PostgreSQL), so a count costs
one query and no two processes ever see the same number. Other values keep Django's encoding
(base64 of a pickle, which never consists of digits only). The table is made by
``createcachetable`` after every ``migrate`` (see ``core.apps``).
"""

from __future__ import annotations

import base64
import pickle
import random
import re
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router, transaction
from django.utils.timezone import now as tz_now

PLAIN_INTEGER = re.compile(r"-?\d+")
# One count in this many also deletes the expired rows (old rate-limit windows), so the table
# holds only live counters without a scheduled job.
PURGE_ONE_IN = 500


def _decode(stored: str) -> Any:
    if PLAIN_INTEGER.fullmatch(stored):
        return int(stored)
    return pickle.loads(base64.b64decode(stored.encode()))  # noqa: S301 - rows we wrote ourselves


class AtomicDatabaseCache(DatabaseCache):
    _table: str  # set by Django's BaseDatabaseCache, untyped in the stubs

    def _names(self) -> tuple[Any, str, str, str, str]:
        connection = connections[router.db_for_write(self.cache_model_class)]
        quote = connection.ops.quote_name
        return connection, quote(self._table), quote("cache_key"), quote("value"), quote("expires")

    def _now(self, connection: Any) -> Any:
        return connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0, tzinfo=None))

    def count_in_window(
        self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> int:
        """Add one to the counter ``key`` (made with ``timeout`` if missing or expired); the new count."""
        cache_key = self.make_and_validate_key(key, version=version)
        connection, table, key_column, value_column, expires_column = self._names()
        backend_timeout = self.get_backend_timeout(timeout)
        expires = (
            datetime.max.replace(tzinfo=UTC)
            if backend_timeout is None
            else datetime.fromtimestamp(backend_timeout, tz=UTC)
        )
        expires_value = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        now = self._now(connection)
        integer = "BIGINT" if connection.vendor == "postgresql" else "INTEGER"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_column}, {value_column}, {expires_column}) "  # noqa: S608 - quoted names
                f"VALUES (%s, '1', %s) ON CONFLICT ({key_column}) DO UPDATE SET "
                f"{value_column} = CASE WHEN {table}.{expires_column} < %s THEN '1' "
                f"ELSE CAST(CAST({table}.{value_column} AS {integer}) + 1 AS TEXT) END, "
                f"{expires_column} = CASE WHEN {table}.{expires_column} < %s "
                f"THEN EXCLUDED.{expires_column} ELSE {table}.{expires_column} END "
                f"RETURNING {value_column}",
                [cache_key, expires_value, now, now],
            )
            count = int(cursor.fetchone()[0])
            if random.randrange(PURGE_ONE_IN) == 0:  # noqa: S311 - load spreading, not security
                cursor.execute(f"DELETE FROM {table} WHERE {expires_column} < %s", [now])  # noqa: S608
        return count

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        """Django's ``incr`` without the lost update: the row is locked by a write first (a row lock
        on PostgreSQL, the write lock on SQLite), then read and written in the same transaction."""
        cache_key = self.make_and_validate_key(key, version=version)
        connection, table, key_column, value_column, expires_column = self._names()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {expires_column} = {expires_column} "  # noqa: S608 - quoted names
                f"WHERE {key_column} = %s AND {expires_column} >= %s",
                [cache_key, self._now(connection)],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"Key '{key}' not found.")
            cursor.execute(f"SELECT {value_column} FROM {table} WHERE {key_column} = %s", [cache_key])  # noqa: S608
            stored = connection.ops.process_clob(cursor.fetchone()[0])
            value = _decode(stored) + delta
            if PLAIN_INTEGER.fullmatch(stored):
                encoded = str(value)
            else:
                encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_column} = %s WHERE {key_column} = %s",  # noqa: S608
                [encoded, cache_key],
            )
        return value

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        """Django's ``get_many``, reading plain-integer counters as well as pickled values."""
        if not keys:
            return {}
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        connection = connections[router.db_for_read(self.cache_model_class)]
        quote = connection.ops.quote_name
        placeholders = ", ".join(["%s"] * len(key_map))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('cache_key')}, {quote('value')}, {quote('expires')} "  # noqa: S608
                f"FROM {quote(self._table)} WHERE {quote('cache_key')} IN ({placeholders})",
                list(key_map),
            )
            rows = cursor.fetchall()
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        result: dict[Any, Any] = {}
        expired: list[str] = []
        now = tz_now()
        for cache_key, stored, expires in rows:
            for converter in converters:
                expires = converter(expires, expression, connection)
            if expires < now:
                expired.append(cache_key)
            else:
                result[key_map.get(cache_key)] = _decode(connection.ops.process_clob(stored))
        self._base_delete_many(expired)  # type: ignore[attr-defined]
        return result
