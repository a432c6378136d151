"""Survey waves: the date a survey was taken, and what counts to it.

A district surveys its vacant units again and again (*ondate di rilevazione*).
Each wave has a date, which a file gives per row (a column headed
``Data rilevazione``, ``Data del rilievo``, ``survey_date``...; the field
project of :mod:`geodistrict.fieldwork` writes ``survey_date``) or the
configuration names for the whole file (``surveys.wave: "2025-05"``).  The
vacancy duration of a unit (``vacancy_months``) counts to that date, not to
the day of the run, so a run repeated next year gives the same figures for the
same wave.

Nothing here reads the configuration: the ``vacancy`` step passes
``surveys.wave`` in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

from geodistrict.errors import ParameterError, Problem, SurveyError
from geodistrict.sources.surveys.schema import _header_key
from geodistrict.sources.surveys.values import _BadValueError, _is_missing, _to_date

log = logging.getLogger(__name__)

__all__ = ["SURVEY_DATE_HEADERS", "dated_survey", "dated_surveys", "survey_dates", "wave_date"]

#: Headers (normalised: no accents, lower case, ``_`` for punctuation) of a survey-date column.
SURVEY_DATE_HEADERS = (
    "survey_date", "data_rilevazione", "data_di_rilevazione", "data_rilievo",
    "data_del_rilievo", "data_sopralluogo", "data_del_sopralluogo", "rilevato_il",
    "data_censimento", "wave_date", "data_ondata",
)  # fmt: skip

_WAVE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def wave_date(wave: str | date | None) -> date | None:
    """The date of a wave named ``YYYY-MM`` (its first day) or ``YYYY-MM-DD``.

    Examples
    --------
    >>> wave_date("2025-05"), wave_date("2025-05-20"), wave_date(None)
    (datetime.date(2025, 5, 1), datetime.date(2025, 5, 20), None)
    """
    if wave is None or isinstance(wave, date):
        return wave
    match = _WAVE.fullmatch(str(wave).strip())
    if match is None:
        raise ParameterError(f"wave {wave!r}: expected a month YYYY-MM or a day YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        return date(int(year), int(month), int(day or 1))
    except ValueError as exc:
        raise ParameterError(f"wave {wave!r}: {exc}") from None


def _date_column(frame: pd.DataFrame) -> str | None:
    found = [c for c in frame.columns if isinstance(c, str) and _header_key(c) in
             SURVEY_DATE_HEADERS]  # fmt: skip
    return found[0] if found else None


def survey_dates(
    frame: pd.DataFrame,
    *,
    default: date | None = None,
    today: date | None = None,
    file: str = "survey",
) -> pd.Series:
    """The survey date of each row: its own column, else ``default``.

    Parameters
    ----------
    frame : DataFrame
        Survey rows as :func:`~geodistrict.sources.surveys.read_survey`
        returns them (a survey-date column, if any, is kept as written:
        ISO ``2025-05-20``, Italian ``20/05/2025``, an Excel date).
    default : date, optional
        Date of rows without their own (the configured wave).
    today : date, optional
        No survey date may be after it (default: today).
    file : str
        Name of the file in messages.

    Returns
    -------
    Series
        ``datetime64[us]``, indexed like ``frame``; NaT where neither the row
        nor ``default`` gives a date.

    Raises
    ------
    SurveyError
        Listing every row whose date is not a date or lies in the future.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"unit_id": ["A", "B"], "Data rilevazione": ["20/05/2025", None]})
    >>> survey_dates(rows, default=date(2025, 5, 1)).dt.strftime("%Y-%m-%d").tolist()
    ['2025-05-20', '2025-05-01']
    """
    limit = today or date.today()
    column = _date_column(frame)
    fallback = pd.Timestamp(default) if default is not None else pd.NaT
    if column is None:
        return pd.Series(fallback, index=frame.index, dtype="datetime64[us]", name="survey_date")
    rows = frame["source_row"].tolist() if "source_row" in frame else list(
        range(2, len(frame) + 2)
    )  # fmt: skip
    problems: list[Problem] = []
    values: list[object] = []
    for row, raw in zip(rows, frame[column].tolist(), strict=True):
        if _is_missing(raw):
            values.append(fallback)
            continue
        try:
            day = _to_date(raw, limit)
        except _BadValueError as exc:
            problems.append(Problem(file, int(row), column, raw, str(exc)))
            values.append(pd.NaT)
            continue
        if day > limit:
            message = f"survey date in the future (today is {limit.isoformat()})"
            problems.append(Problem(file, int(row), column, raw, message))
        values.append(pd.Timestamp(day))
    if problems:
        raise SurveyError(file, problems)
    return pd.Series(pd.to_datetime(values), index=frame.index, name="survey_date").astype(
        "datetime64[us]"
    )


def dated_survey(
    frame: pd.DataFrame,
    *,
    wave: str | date | None = None,
    today: date | None = None,
    file: str = "survey",
) -> pd.DataFrame:
    """A copy of the survey with a ``survey_date`` column (its own, else the wave's).

    The survey-date column of the file, whatever its header, becomes
    ``survey_date``; rows without one get the date of ``wave``.  A unit
    recorded vacant after its survey date is reported.

    Raises
    ------
    SurveyError
        Bad or future survey dates, or ``vacant_since`` after the survey date.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"unit_id": ["A"], "vacant_since": [pd.Timestamp("2024-01-01")]})
    >>> dated_survey(rows, wave="2025-05")["survey_date"].dt.date.tolist()
    [datetime.date(2025, 5, 1)]
    """
    dates = survey_dates(frame, default=wave_date(wave), today=today, file=file)
    column = _date_column(frame)
    out = frame.drop(columns=[column]) if column is not None else frame.copy()
    out["survey_date"] = dates.to_numpy()
    if "vacant_since" in out:
        since = pd.to_datetime(out["vacant_since"], errors="coerce")
        late = since.notna() & dates.notna() & (since > dates)
        if late.any():
            rows = out["source_row"] if "source_row" in out else pd.Series(
                range(2, len(out) + 2), index=out.index
            )  # fmt: skip
            raise SurveyError(file, [
                Problem(file, int(rows[i]), "vacant_since", str(since[i].date()),
                        f"vacant since after the survey date {dates[i].date().isoformat()}")
                for i in out.index[late]
            ])  # fmt: skip
    return out


def dated_surveys(
    surveys: Mapping[str, Any],
    *,
    wave: str | date | None = None,
    file: str = "vacant units",
) -> tuple[dict[str, Any], date | None]:
    """The survey frames with a dated ``vacant_units``, and the wave's reference date.

    The reference date (what rows without a date and OSM's vacant units count
    to) is the configured ``wave``, else the latest survey date of the file,
    else ``None`` (the day of the run).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"unit_id": ["A", "B"], "survey_date": ["2025-05-20", "2025-05-22"]})
    >>> found, as_of = dated_surveys({"vacant_units": rows})
    >>> as_of
    datetime.date(2025, 5, 22)
    """
    found = dict(surveys)
    as_of = wave_date(wave)
    frame = found.get("vacant_units")
    if frame is None:
        return found, as_of
    dated = dated_survey(frame, wave=wave, file=file)
    found["vacant_units"] = dated
    if as_of is None and dated["survey_date"].notna().any():
        as_of = dated["survey_date"].max().date()
    if as_of is not None:
        log.info("vacant units: vacancy durations count to the survey date %s", as_of)
    return found, as_of
