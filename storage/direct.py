"""Prebuilt statements run straight on the session's DBAPI cursor: the few that every ✅ 签到 press runs, and the
reads among them that a group of presses reads ahead in one statement each."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Executable, Select, and_, bindparam, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

class _Compiled:
    """One statement compiled for one dialect and one set of parameter names, with its processors."""

    __slots__ = ("sql", "names", "positional", "binds", "results", "returns_rows")

    def __init__(self, statement: Executable, dialect: Dialect, names: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(names))
        assert isinstance(compiled, SQLCompiler)
        # Values SQLAlchemy's execution context would compute (Python-side column defaults) are not computed
        # here: such a statement is refused when it is first run, not silently given NULLs.
        if compiled.insert_prefetch or compiled.update_prefetch:
            missing = [column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch)]
            raise ValueError(f"a direct statement is given every value; missing {missing}")
        self.sql = compiled.string
        self.positional = compiled.positiontup is not None
        self.names = tuple(compiled.positiontup) if self.positional else tuple(compiled.binds)
        self.binds = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                           for name in self.names)
        self.results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                             for column in statement.exported_columns)  # type: ignore[attr-defined]
        # Known from the statement, not asked of the cursor: psycopg builds a Column object per column each time
        # its `description` is read (a third of these statements' CPU, measured with cProfile).
        self.returns_rows = bool(self.results)

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any] | list[Any]:
        bound = [(name, process(values[name]) if process is not None else values[name])
                 for name, process in self.binds]
        return [value for _, value in bound] if self.positional else dict(bound)

    def row(self, row: tuple) -> tuple:
        return tuple(process(value) if process is not None else value for process, value in zip(self.results, row, strict=True))


class DirectStatement:
    """A Core statement built once and run on the session's own DBAPI connection and transaction.

    SQLAlchemy's execution layer (an execution context, result metadata and a Result per statement) costs two
    to three times the driver's own work for a one-row statement on PostgreSQL: ~100 µs against ~50 µs per
    statement, and a check-in runs four (bench/bench_checkin.py). Here the statement is compiled once per
    dialect, its columns' bind and result processors are applied as SQLAlchemy applies them (UTC datetimes,
    SQLite's booleans), engine cursor events still fire, and a driver error reaches the caller as SQLAlchemy's
    own, a disconnect invalidating the pool as `Connection.execute` does (the edge then answers "busy").
    Only for statements given every value (no Python-side column defaults).
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # By engine dialect (compiled once that dialect has met its server) and by the parameters' names.
        self._compiled: weakref.WeakKeyDictionary[Dialect, dict[tuple[str, ...], _Compiled]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect, names: tuple[str, ...]) -> _Compiled:
        found = self._compiled.get(dialect, {}).get(names)
        if found is None:
            with self._lock:
                by_names = self._compiled.setdefault(dialect, {})
                found = by_names.get(names)
                if found is None:
                    found = by_names[names] = _Compiled(self.statement, dialect, names)
        return found

    def rows(self, session: Session, values: Mapping[str, Any]) -> list[tuple]:
        """Every row, each value as SQLAlchemy's result would give it; what the session holds unsent is flushed
        first, as `Session.execute` does."""
        if session.autoflush:
            session.flush()
        connection = session.connection()
        compiled = self._for(connection.dialect, tuple(values))
        parameters = compiled.parameters(values)
        # The pool's DBAPI connection: the driver's own, or SQLAlchemy's adapter of an async one (bench_checkin_db --async-driver).
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        dispatch = connection.dispatch
        try:
            if dispatch.before_cursor_execute:
                dispatch.before_cursor_execute(connection, cursor, compiled.sql, parameters, None, False)
            cursor.execute(compiled.sql, parameters)
            if dispatch.after_cursor_execute:
                dispatch.after_cursor_execute(connection, cursor, compiled.sql, parameters, None, False)
            fetched = cursor.fetchall() if compiled.returns_rows else []
        except connection.dialect.loaded_dbapi.Error as error:
            # SQLAlchemy's own handling: wraps the error, invalidates on a disconnect, runs handle_error events.
            connection._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)  # noqa: SLF001
        finally:
            # A lost connection is closed by then: closing its cursor would raise instead of the wrapped error.
            if not connection.invalidated:
                cursor.close()
        return [compiled.row(row) for row in fetched]

    def first(self, session: Session, values: Mapping[str, Any]) -> tuple | None:
        rows = self.rows(session, values)
        return rows[0] if rows else None


# Where a session keeps the answers read ahead for it (`KeyedRead.read_ahead`), until its reads take them.
_AHEAD = "branchbot.read_ahead"


class KeyedRead:
    """A prebuilt read of the rows whose key columns equal its key parameters (`base` gives the rest: columns,
    joins, fixed criteria, order), which can also be read ahead for several keys in one statement.

    `read_ahead` reads the rows of many keys at once (`key IN (...)`, or `(a = … AND b = …) OR …` for a composite
    key; `WIDTH` keys a statement, the
    last repeated to fill it so the statement is prepared once) and keeps, in the session, one answer per key
    asked; each later `rows` call with that key and those fixed values takes one of them instead of a round
    trip. So a group of ✅ 签到 presses reads its pressers' seats, its activity and their reminders in three
    statements, not three a press (bench/bench_checkin_db.py). An answer is what the read would have seen when it
    was read ahead, in the same transaction: for work that does not itself write what it reads ahead (a check-in
    writes attendance only); a read with no answer left reads the database.
    """

    WIDTH = 16

    def __init__(self, base: Select, keys: Mapping[str, ColumnElement]) -> None:
        self.key_names = tuple(keys)
        self._one = DirectStatement(base.where(*(column == bindparam(name) for name, column in keys.items())))
        columns = tuple(keys.values())
        if len(columns) == 1:
            (name, column), = keys.items()
            among = column.in_([bindparam(f"{name}_{i}") for i in range(self.WIDTH)])
        else:  # keys each as `(a = :a_i AND b = :b_i)`, which SQLite plans on an index as PostgreSQL does
            among = or_(*(and_(*(column == bindparam(f"{name}_{i}") for name, column in keys.items()))
                          for i in range(self.WIDTH)))
        self._many = DirectStatement(base.add_columns(*columns).where(among))
        self._width = len(columns)
        # Rows are matched to the keys asked by equality in Python: a key of another type than the column's
        # ("5" for 5) would match no row and be answered "none" where the database would find one.
        self._key_types = tuple(_python_type(column) for column in columns)

    def rows(self, session: Session, values: Mapping[str, Any]) -> list[tuple]:
        """The rows for `values` (every key and fixed parameter): an answer read ahead for them, else the database's."""
        ahead = session.info.get(_AHEAD)
        if ahead:
            answers = ahead.get((self, *sorted(values.items())))
            if answers:
                if session.autoflush:  # as the read itself would (`DirectStatement.rows`): what follows sees a clean session
                    session.flush()
                return answers.pop()
        return self._one.rows(session, values)

    def first(self, session: Session, values: Mapping[str, Any]) -> tuple | None:
        rows = self.rows(session, values)
        return rows[0] if rows else None

    def read_ahead(self, session: Session, keys: Iterable[tuple], fixed: Mapping[str, Any] | None = None
                   ) -> dict[tuple, list[tuple]]:
        """Reads the rows of every key (a tuple of key values, in `keys`' order of names) and keeps one answer per
        key asked (a key asked twice is answered twice); the rows by key are returned as well."""
        fixed = dict(fixed or {})
        asked = [tuple(key) for key in keys]
        for key in asked:
            if not all(isinstance(value, kind) for value, kind in zip(key, self._key_types, strict=True)):
                raise TypeError(f"keys of {self.key_names} are {[kind.__name__ for kind in self._key_types]}: {key!r}")
        found: dict[tuple, list[tuple]] = {key: [] for key in asked}
        distinct = list(found)
        for start in range(0, len(distinct), self.WIDTH):
            chunk = distinct[start:start + self.WIDTH]
            chunk += [chunk[-1]] * (self.WIDTH - len(chunk))
            values = dict(fixed)
            for i, key in enumerate(chunk):
                values.update({f"{name}_{i}": value for name, value in zip(self.key_names, key, strict=True)})
            for row in self._many.rows(session, values):
                # Every row matches a key asked (the keys are typed as their columns): a miss is an error, never
                # an answer of "no rows".
                found[row[-self._width:]].append(row[:-self._width])
        ahead = session.info.setdefault(_AHEAD, {})
        for key in asked:
            values = {**fixed, **dict(zip(self.key_names, key, strict=True))}
            ahead.setdefault((self, *sorted(values.items())), []).append(list(found[key]))
        return found


def _python_type(column: ColumnElement) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:  # a type that does not say: any value is taken as it is
        return object
