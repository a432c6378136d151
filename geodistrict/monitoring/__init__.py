"""Monitoring a district wave after wave: survey dates and change between two runs.

:mod:`~geodistrict.monitoring.waves` dates the surveys (the date vacancy
durations count to); :func:`write_comparison` compares two output folders of
the same district (``geodistrict compare BEFORE AFTER``): units opened,
closed, still vacant and reactivated, vacancy rates by retail centre and by
street, indicator changes, with the dates of both waves.
"""

from geodistrict.monitoring.compare import (
    CHANGES,
    Comparison,
    Wave,
    WaveMismatchError,
    compare_outputs,
    unit_changes,
    vacancy_rate_change,
)
from geodistrict.monitoring.output import write_comparison
from geodistrict.monitoring.waves import dated_survey, dated_surveys, survey_dates, wave_date

__all__ = [
    "CHANGES",
    "Comparison",
    "Wave",
    "WaveMismatchError",
    "compare_outputs",
    "dated_survey",
    "dated_surveys",
    "survey_dates",
    "unit_changes",
    "vacancy_rate_change",
    "wave_date",
    "write_comparison",
]
