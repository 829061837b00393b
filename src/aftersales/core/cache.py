"""The database cache of the embedded default, with an increment that is atomic across processes.

Django's database cache increments by reading and then writing the value, so two web processes
counting the same rate-limit window can both read 7 and both write 8. Here the increment starts
with a write to the row (which takes the row lock on PostgreSQL and the database's write lock on
SQLite), then reads and writes the value inside that one transaction: every other process waits
for it. The table is made by ``createcachetable`` after every ``migrate`` (see ``core.apps``).
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


class AtomicDatabaseCache(DatabaseCache):
    _table: str  # set by Django's BaseDatabaseCache, untyped in the stubs

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        cache_key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)
        key_column, value_column, expires_column = quote("cache_key"), quote("value"), quote("expires")
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0, tzinfo=None))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {expires_column} = {expires_column} "  # noqa: S608 - quoted names
                f"WHERE {key_column} = %s AND {expires_column} >= %s",
                [cache_key, now],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"Key '{key}' not found.")
            cursor.execute(f"SELECT {value_column} FROM {table} WHERE {key_column} = %s", [cache_key])  # noqa: S608
            stored = connection.ops.process_clob(cursor.fetchone()[0])
            # The same encoding as Django's database cache, so get() and set() keep working.
            value = pickle.loads(base64.b64decode(stored.encode())) + delta  # noqa: S301 - our own rows
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {value_column} = %s WHERE {key_column} = %s",  # noqa: S608
                [encoded, cache_key],
            )
        return value
