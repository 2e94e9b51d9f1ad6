"""Shared column types for the tables: timezone-aware timestamps and JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlmodel import Field


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp on every back end (SQLite keeps no zone: store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def ts(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


MAX_ID = 2**31 - 1  # primary keys are 32-bit integers on PostgreSQL


def parse_id(value: object) -> int | None:
    """A row id from outside (a button value, modal metadata, a URL): an int, or a string of
    ASCII digits (`int()` also takes "١" and fullwidth digits), from 1 to `MAX_ID`; else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
        return value
    return None
