"""The business register: a Chamber of Commerce extract (*elenco imprese*, *unità locali*).

The register says **who exists**: every firm (or local unit) registered in the
district's comuni, with its tax code, REA number, name, ATECO codes, address,
employees class, legal form and start date. The firm questionnaire says **who
answered**. :func:`read_register` reads an extract as the Chamber of Commerce
(Registro Imprese, InfoCamere) or an office exports it, CSV or XLSX, with the
same header matching and Italian values as the survey readers
(:mod:`geodistrict.sources.surveys`); :func:`match_register` joins the
questionnaire to it (tax code, REA, else name and address or comune).

Accepted columns (headers are matched case-, accent- and punctuation-
insensitively; the table in ``docs/production.md`` lists the aliases): see
:data:`REGISTER`. Required: a name, the primary ATECO code, the address and
the comune, and at least one of tax code, VAT number and REA number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geodistrict._validate import existing_file, lonlat_problem
from geodistrict.errors import MissingColumnError, ParameterError, Problem, SurveyError
from geodistrict.geocode.normalise import comune_key, parse_address
from geodistrict.sources.surveys.checks import _file_problem, _RawTable
from geodistrict.sources.surveys.readers import _read_delimited, _read_excel
from geodistrict.sources.surveys.schema import LAT, LON, SurveyField, SurveySchema
from geodistrict.sources.surveys.values import _BadValueError, _convert, _is_missing

__all__ = ["EMPLOYEE_CLASSES", "REGISTER", "match_register", "read_register"]

log = logging.getLogger(__name__)

_DEGREES = ("wgs84", "wgs", "84", "gradi", "deg", "decimali", "epsg", "4326")

REGISTER = SurveySchema(
    name="register",
    fields=(
        SurveyField("tax_code", "str", aliases=(
            "codice_fiscale", "cf", "c_f", "cod_fiscale", "codice_fiscale_impresa",
            "cf_impresa", "tax_code"),
            description="Codice fiscale of the firm: 11 digits for companies, 16 characters "
            "for sole traders; its check digit is verified."),
        SurveyField("vat_number", "str", aliases=(
            "partita_iva", "p_iva", "piva", "p_i", "numero_partita_iva", "vat"),
            units=("it",),
            description="Partita IVA: 11 digits (an `IT` prefix is dropped); check digit "
            "verified."),
        SurveyField("rea", "str", aliases=(
            "numero_rea", "n_rea", "nrea", "rea_numero", "codice_rea", "cciaa_rea",
            "numero_iscrizione_rea"),
            description="REA number (*Repertorio Economico Amministrativo*), e.g. "
            "`TN-123456` or `123456` (then the `provincia` column, if any, gives the "
            "prefix)."),
        SurveyField("province", "str", aliases=(
            "provincia", "prov", "sigla_provincia", "pv", "cciaa"),
            description="Province of the Chamber of Commerce (`TN`)."),
        SurveyField("local_unit", "str", aliases=(
            "numero_ul", "n_ul", "progressivo_ul", "progressivo_unita_locale", "nr_ul",
            "numero_unita_locale", "ul"),
            description="Number of the local unit within the firm (*progressivo UL*); blank "
            "for the registered office."),
        SurveyField("unit_type", "str", aliases=(
            "tipo_sede", "tipo_localizzazione", "tipo_unita", "tipo_ul", "sede_ul"),
            description="`SEDE` (registered office) or `UL` (local unit), as written."),
        SurveyField("name", "str", required=True, aliases=(
            "denominazione", "ragione_sociale", "denominazione_impresa", "nome_impresa",
            "impresa", "denominazione_sociale"),
            description="Registered name (*denominazione*)."),
        SurveyField("ateco", "str", required=True, aliases=(
            "codice_ateco_primario", "ateco_primario", "attivita_primaria",
            "codice_attivita_primaria", "codice_ateco", "ateco", "ateco_2025",
            "ateco_2007", "codice_attivita", "attivita_prevalente",
            "codice_ateco_prevalente", "ateco_prevalente"),
            units=("2007", "2025", "ateco", "codice", "cod"),
            description="Primary ATECO code (2025, or 2007 converted through ISTAT's "
            "correspondence), any written form (`C25.11`, `25.11.00`, `251100`); an "
            "ATECO description after the code (`25.11 - Fabbricazione...`) is ignored."),
        SurveyField("ateco_secondary", "str", aliases=(
            "codici_ateco_secondari", "ateco_secondari", "attivita_secondarie",
            "codici_attivita_secondarie", "ateco_secondario", "codice_ateco_secondario"),
            description="Secondary ATECO codes, separated by `;`, `,` or `|`."),
        SurveyField("address", "str", required=True, aliases=(
            "indirizzo", "indirizzo_sede", "indirizzo_ul", "indirizzo_unita_locale",
            "via", "sede_indirizzo", "indirizzo_localizzazione", "toponimo"),
            description="Street and civic number (`Via Roma 12/A`, `V.le G. Verdi 3 bis`, "
            "`Loc. Masetto snc`)."),
        SurveyField("street_number", "str", aliases=(
            "numero_civico", "civico", "n_civico", "civ"),
            description="Civic number, when the extract has it in a column of its own."),
        SurveyField("municipality", "str", required=True, aliases=(
            "comune", "comune_sede", "comune_ul", "comune_unita_locale",
            "comune_localizzazione"),
            description="Comune (ISTAT name; `Mezzolombardo (TN)` is read as `Mezzolombardo`)."),
        SurveyField("postcode", "str", aliases=("cap", "codice_postale", "c_a_p"),
            description="Postcode (*CAP*), 5 digits."),
        SurveyField("employees_class", "str", aliases=(
            "classe_addetti", "classe_di_addetti", "addetti_classe", "classe_dimensionale",
            "dimensione_addetti"),
            description="Employees class as the register gives it: `0`, `1-5`, `da 1 a 5`, "
            "`6 - 9`, `10-19`, `20-49`, `50-249`, `250 e oltre`, `>= 250`..."),
        SurveyField("employees", "int", aliases=(
            "addetti", "numero_addetti", "n_addetti", "addetti_totali", "totale_addetti",
            "dipendenti"), minimum=0,
            description="Number of employees (*addetti*), when the extract gives it."),
        SurveyField("legal_form", "str", aliases=(
            "forma_giuridica", "natura_giuridica", "forma_societaria", "forma_giur"),
            description="Legal form (*forma giuridica*), as written (`SOCIETA' A "
            "RESPONSABILITA' LIMITATA`, `IMPRESA INDIVIDUALE`...)."),
        SurveyField("start_date", "date", aliases=(
            "data_inizio_attivita", "inizio_attivita", "data_inizio", "data_avvio",
            "data_inizio_att", "data_iscrizione"), not_future=True,
            description="Start date of the activity (`gg/mm/aaaa`, ISO or an Excel date)."),
        SurveyField("status", "str", aliases=(
            "stato_attivita", "stato", "stato_impresa", "attiva"),
            description="Activity status (`attiva`, `inattiva`, `sospesa`, `in "
            "liquidazione`, `cessata`...); firms `cessata`, `cancellata` or `inattiva` are "
            "not counted in the frame."),
        SurveyField(LON, "float", aliases=("longitudine", "longitude", "lng", "x"),
                    units=_DEGREES,
                    description="Longitude (WGS 84), if the extract has it: then the row is "
                    "not geocoded."),
        SurveyField(LAT, "float", aliases=("latitudine", "latitude", "y"), units=_DEGREES,
                    description="Latitude (WGS 84), with `lon`."),
    ),
)  # fmt: skip
"""The columns of a register extract, with the headers the Chamber of Commerce writes."""

_ID_FIELDS = ("tax_code", "vat_number", "rea")
_INACTIVE = frozenset({"cessata", "cancellata", "inattiva", "cessata attivita", "cancellato"})

#: Employees classes of the Italian registers (ISTAT ASIA / InfoCamere): lower, upper bound.
EMPLOYEE_CLASSES: tuple[tuple[int, int | None], ...] = (
    (0, 0), (1, 1), (1, 5), (2, 5), (6, 9), (10, 19), (20, 49), (50, 99), (50, 249),
    (100, 199), (200, 249), (100, 249), (250, 499), (250, None), (500, 999), (500, None),
    (1000, None),
)  # fmt: skip

_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3,
    6, 8, 12, 14, 16, 10, 22, 25, 24, 23), strict=True))  # fmt: skip
_CF_PERSON = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                        r"[0-9LMNPQRSTUV]{3}[A-Z]")  # fmt: skip
_REA = re.compile(r"(?:([A-Za-z]{2})\s*[-/ ]?\s*)?(\d{1,7})")


def vat_check_digit_ok(digits: str) -> bool:
    """Whether an 11-digit partita IVA (or numeric codice fiscale) has a valid check digit.

    Examples
    --------
    >>> vat_check_digit_ok("00743110157"), vat_check_digit_ok("00743110158")
    (True, False)
    """
    if not re.fullmatch(r"\d{11}", digits):
        return False
    total = 0
    for i, ch in enumerate(digits[:10]):
        d = int(ch)
        if i % 2:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10 == int(digits[10])


def cf_check_char_ok(code: str) -> bool:
    """Whether a 16-character codice fiscale of a person has a valid check character.

    Examples
    --------
    >>> cf_check_char_ok("RSSMRA85T10A562S"), cf_check_char_ok("RSSMRA85T10A562T")
    (True, False)
    """
    if not _CF_PERSON.fullmatch(code):
        return False
    total = 0
    for i, ch in enumerate(code[:15]):
        if i % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - ord("A")
    return chr(ord("A") + total % 26) == code[15]


def _tax_code(text: str) -> str:
    code = re.sub(r"[\s.\-]", "", text).upper()
    if re.fullmatch(r"\d{11}", code):
        if not vat_check_digit_ok(code):
            raise _BadValueError("codice fiscale of 11 digits with a wrong check digit")
        return code
    if len(code) == 16:
        if not cf_check_char_ok(code):
            raise _BadValueError("codice fiscale of 16 characters malformed or with a wrong "
                                 "check character")  # fmt: skip
        return code
    raise _BadValueError("not a codice fiscale: 11 digits (companies) or 16 characters (persons)")


def _vat(text: str) -> str:
    code = re.sub(r"[\s.\-]", "", text).upper().removeprefix("IT")
    if not vat_check_digit_ok(code):
        raise _BadValueError("not a partita IVA: 11 digits with a valid check digit")
    return code


def _rea(text: str, province: object) -> str:
    found = _REA.fullmatch(text.strip())
    if found is None:
        raise _BadValueError("not a REA number: up to 7 digits, optionally after the "
                             "province (`TN-123456`)")  # fmt: skip
    prefix = found.group(1) or (province.strip() if isinstance(province, str) else "")
    return f"{prefix.upper()}-{int(found.group(2))}" if prefix else str(int(found.group(2)))


def employees_class_bounds(text: object) -> tuple[int | None, int | None]:
    """Lower and upper bound of an employees class (upper ``None``: open).

    Examples
    --------
    >>> employees_class_bounds("da 1 a 5"), employees_class_bounds("250 e oltre")
    ((1, 5), (250, None))
    >>> employees_class_bounds("10-19"), employees_class_bounds(">= 500")
    ((10, 19), (500, None))
    >>> employees_class_bounds(0)
    (0, 0)
    """
    if _is_missing(text):
        return None, None
    raw = str(text).casefold().replace(".", "")
    numbers = [int(n) for n in re.findall(r"\d+", raw)]
    if not numbers:
        raise _BadValueError("not an employees class (e.g. `1-5`, `10-19`, `250 e oltre`)")
    if len(numbers) == 1:
        open_words = ("oltre", "più", "piu", ">", "+", "almeno", "over", "e più")
        if any(w in raw for w in open_words):
            return numbers[0], None
        return numbers[0], numbers[0]
    low, high = numbers[0], numbers[1]
    if high < low:
        raise _BadValueError(f"employees class from {low} to {high}: the upper bound is smaller")
    return low, high


def _employees_estimate(low: int | None, high: int | None) -> float | None:
    """A central value of a class: the mid-point, or 1.5 x the lower bound of an open class."""
    if low is None:
        return None
    if high is None:
        return float(low) * 1.5
    return (low + high) / 2


def read_register(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read and check a Chamber of Commerce register extract.

    Parameters
    ----------
    path : str or Path
        CSV/TXT (any delimiter, UTF-8 or Windows-1252) or XLSX.
    sheet : str, optional
        Sheet of a workbook (default the first).

    Returns
    -------
    DataFrame
        One row per firm or local unit, RangeIndex: ``register_id`` (tax code,
        else VAT number, else REA; ``/UL<n>`` appended for a local unit), the
        :data:`REGISTER` fields (``tax_code``, ``vat_number`` normalised;
        ``rea`` as ``PR-number``; ``ateco`` as written), ``ateco_2025`` and
        ``ateco_section`` (through
        :func:`geodistrict.production.resolve_ateco`), ``ateco_2007`` (the 2007
        code it was converted from, if any), ``ateco_secondary_2025``,
        ``employees_min``, ``employees_max``, ``employees_est`` (the
        ``employees`` given, else the class mid-point), ``active``,
        ``comune_key``, ``source_row``. No geometry: geocode it with
        :func:`geodistrict.geocode.geocode`.

    Raises
    ------
    InputFileNotFoundError
        If the file does not exist.
    SurveyError
        Listing every problem: missing required columns, bad codes (tax code
        check digit, ATECO, REA), bad numbers or dates, duplicate units.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "elenco_imprese.csv"
    >>> _ = path.write_text(
    ...     "Codice fiscale;Denominazione;Codice ATECO primario;Indirizzo;Comune;Classe addetti\\n"
    ...     "00743110157;Rossi Srl;62.01;V.le G. Verdi 3;Trento;da 1 a 5\\n", encoding="utf-8")
    >>> reg = read_register(path)
    >>> reg[["register_id", "ateco_2025", "ateco_2007", "employees_est"]].values.tolist()
    [['00743110157', '62.10', '62.01', 3.0]]
    """
    p = existing_file(path, what="register extract")
    suffix = p.suffix.casefold()
    if suffix in (".csv", ".txt"):
        raw = _read_delimited(p)
    elif suffix in (".xlsx", ".xlsm"):
        raw = _read_excel(p, sheet)
    else:
        raise SurveyError(p, [_file_problem(p, f"unsupported file type {suffix!r}: use CSV "
                                               "or XLSX")])  # fmt: skip
    return _build(raw, p)


def _build(raw: _RawTable, path: Path) -> pd.DataFrame:
    file = str(path)
    problems = list(raw.problems)
    mapped: dict[str, int] = {}
    for j, header in enumerate(raw.headers):
        name = REGISTER.match_header(header) if header else None
        if name is None:
            continue
        if name in mapped:
            problems.append(
                Problem(
                    file,
                    1,
                    header,
                    None,
                    f"columns {raw.headers[mapped[name]]!r} and {header!r} both mean {name!r}",
                )
            )
            continue
        mapped[name] = j
    for fld in REGISTER.fields:
        if fld.required and fld.name not in mapped:
            accepted = ", ".join(repr(h) for h in (fld.name, *fld.aliases))
            problems.append(Problem(file, 1, None, None, f"required column {fld.name!r} is "
                                    f"missing (accepted headers: {accepted})"))  # fmt: skip
    if not any(f in mapped for f in _ID_FIELDS):
        problems.append(Problem(file, 1, None, None, "no column identifies the firms: add "
                                "'Codice fiscale', 'Partita IVA' or 'Numero REA'"))  # fmt: skip
    if problems and any(p.row == 1 for p in problems):
        raise SurveyError(path, problems)
    n = len(raw.rows)
    today = date.today()
    values: dict[str, list[object]] = {f.name: [None] * n for f in REGISTER.fields}
    for fld in REGISTER.fields:
        if fld.name not in mapped or fld.name in ("tax_code", "vat_number", "rea"):
            continue
        j = mapped[fld.name]
        for i, cell in enumerate(raw.columns[j]):
            if _is_missing(cell):
                if fld.required:
                    problems.append(Problem(file, raw.rows[i], raw.headers[j], None,
                                            "required value is missing"))  # fmt: skip
                continue
            try:
                values[fld.name][i] = _convert(cell, fld, decimal_comma=raw.decimal_comma,
                                               today=today)  # fmt: skip
            except _BadValueError as exc:
                problems.append(Problem(file, raw.rows[i], raw.headers[j], cell, str(exc)))
    for name, parse in (("tax_code", _tax_code), ("vat_number", _vat), ("rea", None)):
        if name not in mapped:
            continue
        j = mapped[name]
        for i, cell in enumerate(raw.columns[j]):
            if _is_missing(cell):
                continue
            text = str(int(cell)) if isinstance(cell, float) and cell.is_integer() else str(cell)
            if name == "tax_code" and re.fullmatch(r"\d{1,10}", text.strip()):
                text = text.strip().zfill(11)  # a spreadsheet dropped the leading zeros
            try:
                values[name][i] = (
                    parse(text) if parse is not None else _rea(text, values["province"][i])
                )
            except _BadValueError as exc:
                problems.append(Problem(file, raw.rows[i], raw.headers[j], cell, str(exc)))
    frame = pd.DataFrame({k: pd.Series(v, dtype="object") for k, v in values.items()})
    frame["source_row"] = pd.Series(raw.rows, dtype="int64")
    for j, header in enumerate(raw.headers):  # other columns are kept as they are
        if header and j not in mapped.values() and header not in frame.columns:
            frame[header] = pd.Series(
                [None if _is_missing(c) else str(c) for c in raw.columns[j]], dtype="str"
            )
    _derived(frame, raw, mapped, file, problems)
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise SurveyError(path, problems)
    for col in ("employees",):
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    for col in (LON, LAT, "employees_est"):
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    for col in ("employees_min", "employees_max"):
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    text_cols = [f.name for f in REGISTER.fields if f.kind == "str"] + [
        "register_id", "ateco_2025", "ateco_section", "ateco_2007", "ateco_secondary_2025",
        "comune_key"]  # fmt: skip
    for col in text_cols:
        frame[col] = frame[col].astype("str")
    frame["active"] = frame["active"].astype("bool")
    first = ["register_id", *REGISTER.field_names]
    log.info(
        "register %s: %d units (%d active)", path.name, len(frame), int(frame["active"].sum())
    )
    return frame[first + [c for c in frame.columns if c not in first]]


def _derived(
    frame: pd.DataFrame,
    raw: _RawTable,
    mapped: dict[str, int],
    file: str,
    problems: list[Problem],
) -> None:
    """Identifiers, ATECO 2025, employees bounds, active flag; problems appended."""
    from geodistrict.production.ateco import resolve_ateco

    def header(name: str) -> str | None:
        return raw.headers[mapped[name]] if name in mapped else None

    n = len(frame)
    ids: list[str | None] = []
    for i in range(n):
        base = next((frame.at[i, f] for f in _ID_FIELDS if isinstance(frame.at[i, f], str)), None)
        if base is None:
            cols = [header(f) for f in _ID_FIELDS if header(f)]
            problems.append(Problem(file, raw.rows[i], " / ".join(c for c in cols if c), None,
                                    "no codice fiscale, partita IVA or REA number"))  # fmt: skip
        unit = frame.at[i, "local_unit"]
        ids.append(None if base is None else base + (f"/UL{unit}" if isinstance(unit, str) and
                                                     unit not in ("", "0") else ""))  # fmt: skip
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident is None:
            continue
        if ident in seen:
            problems.append(Problem(file, raw.rows[i], None, ident, f"unit {ident!r} repeats "
                                    f"row {raw.rows[seen[ident]]}"))  # fmt: skip
        else:
            seen[ident] = i
    frame["register_id"] = ids
    codes, sections, olds, secondary = [], [], [], []
    for i in range(n):
        text = frame.at[i, "ateco"]
        code = section = old = None
        if isinstance(text, str):
            head = re.split(r"\s+-\s+|\s{2,}|:", text.strip())[0].strip()
            try:
                found = resolve_ateco(head)
            except ParameterError as exc:
                problems.append(Problem(file, raw.rows[i], header("ateco"), text, str(exc)))
            else:
                code, section, old = found.code, found.section, found.converted_from
        codes.append(code)
        sections.append(section)
        olds.append(old)
        more = frame.at[i, "ateco_secondary"]
        resolved = []
        if isinstance(more, str):
            for part in re.split(r"[;,|]", more):
                part = part.strip().split(" - ")[0].strip()
                if not part:
                    continue
                try:
                    resolved.append(resolve_ateco(part).code)
                except ParameterError as exc:
                    problems.append(Problem(file, raw.rows[i], header("ateco_secondary"), part,
                                            str(exc)))  # fmt: skip
        secondary.append(";".join(dict.fromkeys(resolved)) or None)
    frame["ateco_2025"], frame["ateco_section"], frame["ateco_2007"] = codes, sections, olds
    frame["ateco_secondary_2025"] = secondary
    lows, highs, ests = [], [], []
    for i in range(n):
        try:
            low, high = employees_class_bounds(frame.at[i, "employees_class"])
        except _BadValueError as exc:
            problems.append(Problem(file, raw.rows[i], header("employees_class"),
                                    frame.at[i, "employees_class"], str(exc)))  # fmt: skip
            low = high = None
        given = frame.at[i, "employees"]
        lows.append(low)
        highs.append(high)
        ests.append(float(given) if given is not None else _employees_estimate(low, high))
    frame["employees_min"], frame["employees_max"], frame["employees_est"] = lows, highs, ests
    frame["active"] = [
        not (isinstance(s, str) and " ".join(s.casefold().split()) in _INACTIVE)
        for s in frame["status"]
    ]
    frame["comune_key"] = [comune_key(m) for m in frame["municipality"]]
    for i in range(n):
        lon, lat = frame.at[i, LON], frame.at[i, LAT]
        if (lon is None) != (lat is None):
            problems.append(Problem(file, raw.rows[i], header(LON) or header(LAT), None,
                                    "longitude and latitude go together"))  # fmt: skip
        elif lon is not None:
            message = lonlat_problem(float(lon), float(lat))
            if message:
                problems.append(Problem(file, raw.rows[i], header(LON), None, message))


def register_points(register: pd.DataFrame, *, crs: object) -> gpd.GeoDataFrame:
    """The register as a GeoDataFrame in ``crs``: rows with ``lon``/``lat`` placed, others empty.

    Rows placed here get ``geocode_quality`` ``given``; the others are for
    :func:`geodistrict.geocode.geocode`.
    """
    points = [
        Point(x, y) if pd.notna(x) and pd.notna(y) else None
        for x, y in zip(register[LON], register[LAT], strict=True)
    ]
    out = gpd.GeoDataFrame(register.copy(), geometry=points, crs=4326)
    return out.to_crs(crs)


def _id_key(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        return ""
    return re.sub(r"[\s.\-/]", "", value).upper().removeprefix("IT")


def _name_key(name: object) -> str:
    from geodistrict.production.firms import _name_key as firm_name_key

    return firm_name_key(name)


def _address_key(text: object, comune: object) -> str:
    parsed = parse_address(text, comune=comune) if isinstance(text, str) else None
    if parsed is None:
        return ""
    return f"{parsed.key}|{parsed.civic.number or ''}"


def _column(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first column of ``frame`` whose header selects one of the register ``names``."""
    for column in frame.columns:
        if str(column) in names:
            return str(column)
    for column in frame.columns:
        if REGISTER.match_header(str(column)) in names:
            return str(column)
    return None


def match_register(
    answers: pd.DataFrame,
    register: pd.DataFrame,
    *,
    max_distance_m: float = 150.0,
) -> pd.DataFrame:
    """Join questionnaire answers to the register units, one to one.

    In this order, each pair taken once: the same tax code / VAT number
    (columns ``tax_code``, ``vat_number`` or headers such as ``Codice
    fiscale``, ``Partita IVA`` kept as they were by the survey reader); the
    same REA number; the same name (legal form and text in brackets aside)
    and address (street key and civic number); the same name in the same
    comune (the closest within ``max_distance_m`` when the register has several
    units of that name there, e.g. local units of one firm).

    Parameters
    ----------
    answers : DataFrame or GeoDataFrame
        Respondents (e.g. the ``FIRMS`` survey) with ``name`` and, if known,
        ``municipality``, an address and a geometry.
    register : DataFrame or GeoDataFrame
        From :func:`read_register` (geocoded or not), same CRS as ``answers``
        when both have geometries.
    max_distance_m : float, default 150
        For the name + comune rule.

    Returns
    -------
    DataFrame
        Indexed like ``answers``: ``register_index`` (label in ``register``,
        or missing), ``register_id``, ``match_on`` (``tax_code``, ``rea``,
        ``name_address``, ``name_comune`` or missing).

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"register_id": ["00743110157"], "tax_code": ["00743110157"],
    ...                     "name": ["Rossi Srl"], "address": ["Via Roma 1"],
    ...                     "municipality": ["Trento"]})
    >>> ans = pd.DataFrame({"name": ["ROSSI S.R.L.", "Bianchi"], "municipality": ["Trento"] * 2})
    >>> match_register(ans, reg)["match_on"].tolist()
    ['name_comune', <NA>]
    """
    if max_distance_m < 0:
        raise ParameterError(f"max_distance_m must be at least 0, got {max_distance_m!r}")
    if "name" not in register.columns:
        raise MissingColumnError("register", "name", hint="read it with read_register(path)")
    out = pd.DataFrame(
        {
            "register_index": pd.Series([pd.NA] * len(answers), dtype="object"),
            "register_id": pd.Series([pd.NA] * len(answers), dtype="object"),
            "match_on": pd.Series([pd.NA] * len(answers), dtype="object"),
        },
        index=answers.index,
    )
    if len(answers) == 0 or len(register) == 0:
        return out.astype({"register_id": "str", "match_on": "str"})
    taken: set[object] = set()
    done: set[object] = set()

    def pair(rule: str, keys_a: dict[object, str], keys_r: dict[object, str]) -> None:
        lookup: dict[str, list[object]] = {}
        for label, key in keys_r.items():
            if key and label not in taken:
                lookup.setdefault(key, []).append(label)
        for label, key in keys_a.items():
            if label in done or not key:
                continue
            free = [r for r in lookup.get(key, []) if r not in taken]
            if not free:
                continue
            chosen = free[0]
            if rule == "name_comune":
                chosen = _closest(answers, register, label, free, max_distance_m)
                if chosen is None:
                    continue
            taken.add(chosen)
            done.add(label)
            out.at[label, "register_index"] = chosen
            rid = register.at[chosen, "register_id"] if "register_id" in register else chosen
            out.at[label, "register_id"] = str(rid)
            out.at[label, "match_on"] = rule

    for rule, names in (("tax_code", ("tax_code", "vat_number")), ("rea", ("rea",))):
        a_cols = [c for c in (_column(answers, (n,)) for n in names) if c]
        r_cols = [c for c in names if c in register.columns]
        for a_col in a_cols:
            for r_col in r_cols:
                pair(rule, {i: _id_key(v) for i, v in answers[a_col].items()},
                     {i: _id_key(v) for i, v in register[r_col].items()})  # fmt: skip
    a_names = {i: _name_key(v) for i, v in answers.get("name", pd.Series(dtype="str")).items()}
    r_names = {i: _name_key(v) for i, v in register["name"].items()}
    a_comune = {i: comune_key(v) for i, v in answers.get("municipality", pd.Series()).items()}
    r_comune = {i: comune_key(v) for i, v in register.get("municipality", pd.Series()).items()}
    a_address = _column(answers, ("address",))
    if a_address is not None and "address" in register.columns:
        pair("name_address",
             {i: f"{a_names.get(i, '')}#{_address_key(v, a_comune.get(i))}"
              if a_names.get(i) and _address_key(v, None) else ""
              for i, v in answers[a_address].items()},
             {i: f"{r_names[i]}#{_address_key(v, r_comune.get(i))}" if r_names[i] else ""
              for i, v in register["address"].items()})  # fmt: skip
    pair("name_comune",
         {i: f"{n}#{a_comune.get(i, '')}" if n else "" for i, n in a_names.items()},
         {i: f"{n}#{r_comune.get(i, '')}" if n else "" for i, n in r_names.items()})  # fmt: skip
    return out


def _closest(
    answers: pd.DataFrame,
    register: pd.DataFrame,
    label: object,
    free: list[object],
    max_distance_m: float,
) -> object | None:
    """Among register units of the same name and comune, the closest one within reach."""
    if len(free) == 1 or not (
        isinstance(answers, gpd.GeoDataFrame) and isinstance(register, gpd.GeoDataFrame)
    ):
        return free[0]
    here = answers.geometry.loc[label]
    if here is None or here.is_empty:
        return free[0]
    best, best_d = None, np.inf
    for r in free:
        there = register.geometry.loc[r]
        if there is None or there.is_empty:
            if best is None:
                best, best_d = r, max_distance_m
            continue
        d = float(here.distance(there))
        if d <= max_distance_m and d < best_d:
            best, best_d = r, d
    return best
