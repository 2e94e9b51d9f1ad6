"""Benchmarks: `make bench` (python -m benchmarks). Figures go to docs/benchmarks.md."""

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def recreate_postgres_database(server_url: str, database: str) -> str:
    """Drop and create `database` on the PostgreSQL server `server_url` (connecting to its
    `postgres` database, 5 s to connect); the URL of the new database. Raises OSError or
    ConnectionError when the server cannot be reached."""
    server = make_url(server_url)
    admin = create_async_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", connect_args={"timeout": 5}
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {database}"))
    finally:
        await admin.dispose()
    return server.set(database=database).render_as_string(hide_password=False)
