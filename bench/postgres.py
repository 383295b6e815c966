"""PostgreSQL connections for the benchmarks, from a DATABASE_URL: standard library and
psycopg2 only, so a floor process pays nothing more than its own reading."""

from urllib.parse import urlsplit, urlunsplit


def with_database(url: str, name: str) -> str:
    """The same server's URL for the database ``name``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def connect(url: str, database: str | None = None):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        dbname=database or database_name(url),
        user=parts.username or "postgres",
        password=parts.password or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
