"""Prebuilt statements run straight on the session's DBAPI cursor: the few that every ✅ 签到 press runs."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable
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
