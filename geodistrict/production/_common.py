"""Helpers the productive-district analyses share: what a firm weighs, numeric answers."""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from geodistrict.errors import MissingColumnError, ParameterError

log = logging.getLogger(__name__)

Weight = Literal["firms", "employees"]


def weights_of(firms: pd.DataFrame, weight: Weight) -> np.ndarray:
    """Weight of each firm: 1, or its employees (a firm that did not say counts 1)."""
    if weight == "firms":
        return np.ones(len(firms))
    if weight != "employees":
        raise ParameterError(f"weight must be 'firms' or 'employees', got {weight!r}")
    if "employees" not in firms.columns:
        raise MissingColumnError(
            "firms", "employees", hint="add the employees of each firm, or use weight='firms'"
        )
    employees = pd.to_numeric(firms["employees"], errors="coerce")
    missing = int(employees.isna().sum())
    if missing:
        log.info("%d firm(s) without employees count as 1", missing)
    return employees.fillna(1).to_numpy(dtype="float64")


def employees_of(firms: pd.DataFrame) -> np.ndarray:
    """Employees of each firm (1 when unknown, or for every firm without the column)."""
    return weights_of(firms, "employees") if "employees" in firms else np.ones(len(firms))


def numeric_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column as float, all-missing when the survey lacks it."""
    if name not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")
