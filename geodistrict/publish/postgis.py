"""Load a district's layers into PostGIS for pygeoapi's PostgreSQL provider.

Each district gets its own schema (``gd_<district>``); each layer a table with
the same columns and ``fid`` values as the served GeoParquet files, ``fid`` as
primary key and a GiST index on ``geometry`` (SRID of the working CRS).  The
load is atomic: tables are written into a staging schema, which replaces the
old schema in one transaction.  Non-finite numbers (``inf``, ``NaN``) are
loaded as NULL, as in the GeoParquet files: PostgreSQL would keep
``Infinity``, which JSON cannot carry.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodistrict.errors import OutputError
from geodistrict.store import finite_or_null, read_manifest

log = logging.getLogger(__name__)

__all__ = ["connection_settings", "load_layers", "schema_name"]


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


def load_layers(folder: str | os.PathLike[str], dsn: str) -> dict[str, int]:
    """Load every layer of a district output folder into PostGIS, replacing the old ones.

    Parameters
    ----------
    folder : path-like
        District output folder (``OUT/<district>``) with ``layers.json``.
    dsn : str
        ``postgresql://user:password@host:port/dbname``; the database needs PostGIS.

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

    manifest = read_manifest(folder)
    schema = schema_name(manifest["district"])
    staging = f"{schema}__loading"
    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://", 1))
    loaded: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            conn.execute(text(f'drop schema if exists "{staging}" cascade'))
            conn.execute(text(f'create schema "{staging}"'))
        for name, entry in manifest["layers"].items():
            frame = gpd.read_parquet(Path(folder) / entry["parquet"])
            # null, never Infinity/NaN, also for files written by older versions
            frame = finite_or_null(frame.drop(columns=["bbox"], errors="ignore"))
            frame.to_postgis(name, engine, schema=staging, index=False, if_exists="replace")
            with engine.begin() as conn:
                conn.execute(text(f'alter table "{staging}"."{name}" add primary key (fid)'))
            loaded[name] = len(frame)
        with engine.begin() as conn:  # the swap: one transaction
            conn.execute(text(f'drop schema if exists "{schema}" cascade'))
            conn.execute(text(f'alter schema "{staging}" rename to "{schema}"'))
    except SQLAlchemyError as exc:
        raise OutputError(
            f"loading {manifest['district']!r} into PostGIS failed: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}; the previous tables were left in place"
        ) from exc
    finally:
        engine.dispose()
    log.info("loaded %d layers into PostGIS schema %s", len(loaded), schema)
    return loaded
