"""Load a district's layers into PostGIS for pygeoapi's PostgreSQL provider.

Each district gets its own schema (``gd_<district>``); each layer a table with
the same columns and ``fid`` values as the served GeoParquet files, ``fid`` as
primary key and a GiST index on ``geometry`` (SRID of the working CRS).  The
load is atomic: tables are written into a staging schema, which replaces the
old schema in one transaction.  The service reads the tables as a separate
read-only role (``<user>_reader``, see :func:`ensure_reader`), granted
``SELECT`` on the district's schemas in that same transaction, so it never
connects as the owner that could change them.  Non-finite numbers (``inf``, ``NaN``) are
loaded as NULL, as in the GeoParquet files: PostgreSQL would keep
``Infinity``, which JSON cannot carry.
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

import geopandas as gpd

from geodistrict.errors import OutputError
from geodistrict.store import current_version, finite_or_null, read_manifest

log = logging.getLogger(__name__)

__all__ = [
    "connection_settings",
    "ensure_reader",
    "load_layers",
    "reader_role",
    "schema_name",
    "with_credentials",
]


def schema_name(district: str) -> str:
    """The PostgreSQL schema of a district: ``gd_`` + the id with ``-`` as ``_``."""
    return "gd_" + district.replace("-", "_")


def connection_settings(dsn: str) -> dict[str, Any]:
    """pygeoapi's PostgreSQL provider ``data`` block from a ``postgresql://`` URL."""
    from sqlalchemy.engine import make_url

    url = make_url(dsn)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "dbname": url.database,
        "user": url.username,
        "password": url.password or "",
    }


def _ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def reader_role(dsn: str) -> str:
    """The read-only role that serves what ``dsn``'s user loads: ``<user>_reader``."""
    from sqlalchemy.engine import make_url

    return f"{make_url(dsn).username}_reader"


def with_credentials(dsn: str, user: str, password: str) -> str:
    """``dsn`` with another user and password."""
    from sqlalchemy.engine import make_url

    url = make_url(dsn).set(username=user, password=password)
    return url.render_as_string(hide_password=False)


def ensure_reader(dsn: str, *, password: str | None = None) -> tuple[str, str] | None:
    """Create or update the read-only role that serves the tables; ``(role, password)``.

    The role (:func:`reader_role`) may log in and read, nothing more: no
    superuser, no database or role creation, ``CONNECT`` on the database;
    :func:`load_layers` grants it ``USAGE`` and ``SELECT`` on each district
    schema it loads.  ``password`` keeps the role's password stable across
    publications (a random one otherwise).

    Returns
    -------
    tuple or None
        None when ``dsn``'s user may not create roles (it needs ``CREATEROLE``);
        the service must then connect as that user (a warning is logged).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    role = reader_role(dsn)
    password = password or secrets.token_urlsafe(24)
    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with engine.begin() as conn:
            row = conn.execute(
                text("select rolsuper or rolcreaterole or rolcreatedb or rolreplication "
                     "or rolbypassrls from pg_roles where rolname = :role"),
                {"role": role},
            ).first()  # fmt: skip
            if row is not None and row[0]:
                log.warning(
                    "role %s exists with more than read rights (superuser, createrole, "
                    "createdb, replication or bypassrls): not serving as it", role
                )  # fmt: skip
                return None
            # ALTER may not name (NO)SUPERUSER without being superuser: create with every
            # attribute, then only keep login and password up to date.
            statement = (
                f"alter role {_ident(role)} with login noinherit password :password"
                if row is not None
                else f"create role {_ident(role)} with login nosuperuser nocreatedb "
                "nocreaterole noreplication noinherit password :password"
            )
            conn.execute(text(statement), {"password": password})
            database = conn.execute(text("select current_database()")).scalar()
            conn.execute(text(f"grant connect on database {_ident(str(database))} "
                              f"to {_ident(role)}"))  # fmt: skip
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        log.warning(
            "cannot create the read-only role %s (%s): the service will connect as %s, "
            "which can write; give that user CREATEROLE to serve read-only",
            role, reason, _user(dsn),
        )  # fmt: skip
        return None
    finally:
        engine.dispose()
    return role, password


def _user(dsn: str) -> str:
    """The user name of a DSN."""
    from sqlalchemy.engine import make_url

    return str(make_url(dsn).username)


def load_layers(
    folder: str | os.PathLike[str], dsn: str, *, reader: str | None = None
) -> dict[str, int]:
    """Load every layer of a district output folder into PostGIS, replacing the old ones.

    Parameters
    ----------
    folder : path-like
        District output folder (``OUT/<district>``) with ``layers.json``.
    dsn : str
        ``postgresql://user:password@host:port/dbname``; the database needs PostGIS.
    reader : str, optional
        A role (from :func:`ensure_reader`) granted ``USAGE`` on the schema and
        ``SELECT`` on its tables, in the transaction that swaps the schema in.

    Returns
    -------
    dict
        Rows loaded per table.

    Raises
    ------
    OutputError
        If the database cannot be reached or written; the previous tables stay.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    version = current_version(folder)  # manifest and files of one version
    manifest = read_manifest(version)
    schema = schema_name(manifest["district"])
    staging = f"{schema}__loading"
    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://", 1))
    loaded: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            conn.execute(text(f'drop schema if exists "{staging}" cascade'))
            conn.execute(text(f'create schema "{staging}"'))
        for name, entry in manifest["layers"].items():
            frame = gpd.read_parquet(version / entry["parquet"])
            # null, never Infinity/NaN, also for files written by older versions
            frame = finite_or_null(frame.drop(columns=["bbox"], errors="ignore"))
            frame.to_postgis(name, engine, schema=staging, index=False, if_exists="replace")
            with engine.begin() as conn:
                conn.execute(text(f'alter table "{staging}"."{name}" add primary key (fid)'))
            loaded[name] = len(frame)
        with engine.begin() as conn:  # the swap: one transaction
            conn.execute(text(f'drop schema if exists "{schema}" cascade'))
            conn.execute(text(f'alter schema "{staging}" rename to "{schema}"'))
            if reader:
                conn.execute(text(f'grant usage on schema "{schema}" to {_ident(reader)}'))
                conn.execute(
                    text(f'grant select on all tables in schema "{schema}" to {_ident(reader)}')
                )
    except SQLAlchemyError as exc:
        raise OutputError(
            f"loading {manifest['district']!r} into PostGIS failed: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}; the previous tables were left in place"
        ) from exc
    finally:
        engine.dispose()
    log.info("loaded %d layers into PostGIS schema %s", len(loaded), schema)
    return loaded
