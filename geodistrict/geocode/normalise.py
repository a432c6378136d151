"""Italian addresses in words a computer can compare.

An address as an office writes it (``V.le G. Verdi 12/A, Mezzolombardo``) and
as OpenStreetMap tags it (``addr:street=Viale Giuseppe Verdi``,
``addr:housenumber=12a``) are turned into the same pieces:

* the **street key**: lower case, no accents, apostrophes and punctuation
  as spaces; abbreviated street types written out (``V.le`` → ``viale``,
  ``P.zza`` / ``P.za`` / ``Pzza`` → ``piazza``, ``C.so`` → ``corso``,
  ``Str.`` → ``strada``, ``Loc.`` → ``localita``, ``Fraz.`` → ``frazione``,
  ``V.`` → ``via``, ``L.go`` → ``largo``, ``P.le`` → ``piazzale``,
  ``Vic.`` → ``vicolo``...); ``S.``, ``San``, ``Santo``, ``Santa``, ``Sant'``
  and ``SS.`` all become ``s``; connectives (``di``, ``del``, ``della``,
  ``d'``...) are left out; a number before a month is written in digits
  (``Quattro Novembre``, ``IV Novembre`` and ``4 Novembre`` are ``4 novembre``);
* the **civic number** (:class:`Civic`): the number, its suffix (``12/A``,
  ``12a``, ``12 A`` → ``12`` + ``a``; ``12 bis`` → ``12`` + ``bis``), a range
  (``12-14`` → 12, up to 14) or none (``snc``, *senza numero civico*);
* the **comune key**: the ISTAT name in the same normal form
  (``San Michele all'Adige`` → ``s michele all adige``).

Initials are not expanded here: :func:`words_match` lets ``g`` match
``giuseppe`` when two street keys are compared.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "Civic",
    "ParsedAddress",
    "comune_key",
    "parse_address",
    "parse_civic",
    "street_key",
    "words_match",
]

#: Street types: every spelling (normalised, dots removed) -> the full word.
_TYPES: dict[str, str] = {
    "via": "via", "v": "via",
    "viale": "viale", "vle": "viale", "vl": "viale",
    "piazza": "piazza", "pza": "piazza", "pzza": "piazza", "p": "piazza", "pz": "piazza",
    "piazzale": "piazzale", "ple": "piazzale", "pzle": "piazzale",
    "piazzetta": "piazzetta", "pzta": "piazzetta",
    "corso": "corso", "cso": "corso", "c": "corso",
    "largo": "largo", "lgo": "largo",
    "vicolo": "vicolo", "vic": "vicolo", "vlo": "vicolo",
    "strada": "strada", "str": "strada", "sda": "strada",
    "località": "localita", "localita": "localita", "loc": "localita", "lc": "localita",
    "frazione": "frazione", "fraz": "frazione", "fz": "frazione", "fr": "frazione",
    "contrada": "contrada", "c.da": "contrada", "cda": "contrada",
    "borgo": "borgo", "bgo": "borgo",
    "lungadige": "lungadige", "lungolago": "lungolago", "lungomare": "lungomare",
    "galleria": "galleria", "gall": "galleria",
    "salita": "salita", "sal": "salita",
    "vicoletto": "vicoletto", "rione": "rione", "calle": "calle", "campo": "campo",
    "traversa": "traversa", "trav": "traversa",
    "circonvallazione": "circonvallazione", "circ": "circonvallazione",
    "passaggio": "passaggio", "pass": "passaggio",
    "stradella": "stradella", "stradone": "stradone",
}  # fmt: skip
#: Saints: all one word, so that ``S. Giovanni``, ``San Giovanni`` and ``Santo`` agree.
_SAINTS = frozenset({"s", "san", "santo", "santa", "sant", "ss", "sto", "sta", "sa"})
#: Words left out of street and comune keys.
_CONNECTIVES = frozenset({
    "di", "d", "del", "dello", "della", "dei", "degli", "delle", "dell", "de", "da", "dal",
    "dalla", "e", "ed", "al", "allo", "alla", "ai", "agli", "alle", "l", "lo", "la", "il",
    "i", "gli", "le",
})  # fmt: skip
# Kept in comune keys ("San Michele all'Adige"): only the apostrophe and case change.
_MONTHS = frozenset({
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
    "settembre", "ottobre", "novembre", "dicembre",
})  # fmt: skip
_NUMBER_WORDS = {
    word: i + 1
    for i, word in enumerate((
        "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove", "dieci",
        "undici", "dodici", "tredici", "quattordici", "quindici", "sedici", "diciassette",
        "diciotto", "diciannove", "venti", "ventuno", "ventidue", "ventitre", "ventiquattro",
        "venticinque", "ventisei", "ventisette", "ventotto", "ventinove", "trenta", "trentuno",
    ))
}  # fmt: skip
_NUMBER_WORDS["primo"] = 1
_ROMAN = re.compile(r"[ivxl]+")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50}

_SNC = re.compile(r"^(?:s\.?\s*n\.?\s*c\.?|s\.?\s*n\.?|senza\s+numero(?:\s+civico)?|sn)$", re.I)
_CIVIC = re.compile(
    r"^(?:n\.?|nr\.?|n°|no\.?|num\.?|civ\.?|civico)?\s*"
    r"(?P<number>\d{1,5})\s*"
    r"(?:(?:[-–]|/\s*(?=\d))\s*(?P<to>\d{1,5}))?\s*"
    r"(?:[/\s-]?\s*(?P<suffix>bis|ter|quater|quinquies|[a-z]|rosso|r|nero))?\s*$",
    re.I,
)
_NUMBER_AT_END = re.compile(
    r"(?:,|\s)\s*(?:n\.?|nr\.?|n°|civ\.?|civico)?\s*"
    r"(?P<civic>\d{1,5}\s*(?:(?:[-–]|/\s*(?=\d))\s*\d{1,5})?"
    r"\s*(?:[/\s-]?\s*(?:bis|ter|quater|quinquies|[a-z]|rosso|r|nero)\b)?|snc|s\.?\s*n\.?\s*c\.?|s\.?n\.?)"
    r"\s*$",
    re.I,
)
_POSTCODE = re.compile(r"\b(\d{5})\b")


def _plain(text: str) -> str:
    """Lower case, accents removed, every non-alphanumeric run a single space."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def _roman(word: str) -> int | None:
    if not _ROMAN.fullmatch(word):
        return None
    total, previous = 0, 0
    for ch in reversed(word):
        value = _ROMAN_VALUES[ch]
        total += -value if value < previous else value
        previous = max(previous, value)
    return total if 0 < total <= 31 else None


def street_key(text: object) -> str:
    """The comparable form of a street name (see the module documentation).

    Examples
    --------
    >>> street_key("V.le G. Verdi")
    'viale g verdi'
    >>> street_key("P.zza S. Giovanni") == street_key("Piazza San Giovanni")
    True
    >>> street_key("Via IV Novembre") == street_key("via Quattro Novembre")
    True
    >>> street_key("Via dell'Òlmo")
    'via olmo'
    """
    if not isinstance(text, str) or not text.strip():
        return ""
    # "P.zza", "V.le", "C.so": the dot inside a type abbreviation joins its letters.
    raw = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    raw = re.sub(r"\b([a-z])\.(?=[a-z]{1,3}\b)", r"\1", raw)
    # "L. Verdi": a letter and a dot is an initial, not the article "l".
    raw = re.sub(r"\b([a-z])\.", r"\1qqinitial ", raw)
    words = _plain(raw).split()
    out: list[str] = []
    for i, word in enumerate(words):
        if i == 0 and word.removesuffix("qqinitial") in _TYPES:
            out.append(_TYPES[word.removesuffix("qqinitial")])
            continue
        if word.endswith("qqinitial"):
            letter = word.removesuffix("qqinitial")
            out.append("s" if letter in _SAINTS else letter)
            continue
        if word in _SAINTS:
            out.append("s")
            continue
        following = words[i + 1] if i + 1 < len(words) else ""
        if following in _MONTHS:  # "I Maggio", "IV Novembre", "Venti Settembre"
            number = _NUMBER_WORDS.get(word) or _roman(word)
            if number is not None:
                out.append(str(number))
                continue
        if word in _CONNECTIVES:
            continue
        out.append(word)
    return " ".join(out)


def comune_key(text: object) -> str:
    """The comparable form of a comune name: ISTAT's name, case, accents and saints aside.

    Examples
    --------
    >>> comune_key("SAN MICHELE ALL'ADIGE") == comune_key("S. Michele all'Adige")
    True
    >>> comune_key("Mezzolombardo (TN)")
    'mezzolombardo'
    """
    if not isinstance(text, str):
        return ""
    text = re.sub(r"\([^)]*\)", " ", text)
    return " ".join("s" if w in _SAINTS else w for w in _plain(text).split())


def words_match(query: str, candidate: str) -> bool:
    """Whether a street key matches another, initials and omitted first names allowed.

    Every word of ``query`` must match a word of ``candidate`` in the same
    order (equal, or a one-letter initial of it), the last words must be equal,
    and ``candidate`` may have more words only before its last word (first
    names the query leaves out: ``via verdi`` matches ``via giuseppe verdi``).
    The street type, when both have one, must agree.

    Examples
    --------
    >>> words_match("viale g verdi", "viale giuseppe verdi")
    True
    >>> words_match("via verdi", "via giuseppe verdi")
    True
    >>> words_match("via g verdi", "via luigi verdi")
    False
    >>> words_match("piazza verdi", "via verdi")
    False
    """
    q, c = query.split(), candidate.split()
    if not q or not c:
        return False
    q_type = q[0] if q[0] in _TYPES.values() else None
    c_type = c[0] if c[0] in _TYPES.values() else None
    if q_type and c_type and q_type != c_type:
        return False
    q = q[1:] if q_type else q
    c = c[1:] if c_type else c
    if not q or not c or q[-1] != c[-1]:
        return False
    j = 0
    for word in q:
        while j < len(c) and not (c[j] == word or (len(word) == 1 and c[j].startswith(word))):
            j += 1
        if j == len(c):
            return False
        j += 1
    return True


@dataclass(frozen=True)
class Civic:
    """A civic number (*numero civico*).

    Attributes
    ----------
    number : int or None
        The number; ``None`` for ``snc`` or when none is written.
    suffix : str
        Lower-case suffix: ``a`` (``12/A``, ``12a``), ``bis``, ``ter``...; ``""``.
    to : int or None
        Last number of a range (``12-14`` → 14).
    snc : bool
        *Senza numero civico*: the address says it has no number.
    """

    number: int | None = None
    suffix: str = ""
    to: int | None = None
    snc: bool = False

    def __str__(self) -> str:
        if self.snc:
            return "snc"
        if self.number is None:
            return ""
        text = str(self.number) + (f"/{self.suffix.upper()}" if len(self.suffix) == 1 else "")
        text += f" {self.suffix}" if len(self.suffix) > 1 else ""
        return text + (f"-{self.to}" if self.to is not None else "")


def parse_civic(text: object) -> Civic | None:
    """Read a civic number; ``None`` when the text is not one.

    Examples
    --------
    >>> parse_civic("12/A"), parse_civic("12 bis").suffix, parse_civic("12-14").to
    (Civic(number=12, suffix='a', to=None, snc=False), 'bis', 14)
    >>> parse_civic("snc").snc, parse_civic("S.N.C.").snc
    (True, True)
    >>> parse_civic("n. 7"), parse_civic("scala B") is None
    (Civic(number=7, suffix='', to=None, snc=False), True)
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return Civic(int(text)) if float(text).is_integer() and text >= 0 else None
    if not isinstance(text, str):
        return None
    raw = text.strip().casefold()
    if not raw:
        return None
    if _SNC.match(raw):
        return Civic(snc=True)
    found = _CIVIC.match(raw)
    if found is None:
        return None
    to = int(found["to"]) if found["to"] else None
    number = int(found["number"])
    if to is not None and to <= number:
        to = None
    suffix = (found["suffix"] or "").casefold()
    suffix = {"r": "rosso", "nero": ""}.get(suffix, suffix)
    return Civic(number, suffix, to)


@dataclass(frozen=True)
class ParsedAddress:
    """An address in pieces: street key, civic number, comune key and postcode.

    ``street`` is the text as written, ``key`` its :func:`street_key`.
    """

    street: str
    key: str
    civic: Civic
    comune: str = ""
    postcode: str = ""


def parse_address(
    text: object,
    *,
    number: object = None,
    comune: object = None,
    postcode: object = None,
) -> ParsedAddress | None:
    """Split an address into street, civic number, comune and postcode.

    The civic number is taken from ``number`` when given (a separate
    *civico* column), else from the end of the street part; a ``, Comune``
    or ``CAP Comune`` tail is recognised when it names ``comune`` (or, when
    ``comune`` is not given, taken as the comune).

    Returns ``None`` when there is no street.

    Examples
    --------
    >>> a = parse_address("V.le G. Verdi, 12/A - 38017 Mezzolombardo")
    >>> a.key, str(a.civic), a.comune, a.postcode
    ('viale g verdi', '12/A', 'mezzolombardo', '38017')
    >>> parse_address("Loc. Masetto snc", comune="Mezzocorona").civic.snc
    True
    >>> parse_address("Via Roma", number="3 bis").civic
    Civic(number=3, suffix='bis', to=None, snc=False)
    """
    if not isinstance(text, str) or not text.strip():
        return None
    body = " ".join(text.replace("\n", " ").split())
    code = ""
    found_code = _POSTCODE.search(body)
    if found_code:
        code = found_code.group(1)
        body = (body[: found_code.start()] + body[found_code.end() :]).strip(" ,-")
    body = " ".join(body.split())
    place = comune_key(comune) if isinstance(comune, str) else ""
    # A tail that is not a civic number is the comune: "Via Roma 3 - Trento", "Via Roma 3, Trento".
    for separator in (" - ", ","):
        if separator not in body:
            continue
        head, tail = body.rsplit(separator, 1)
        tail_key = comune_key(tail)
        is_place = tail_key and not tail.strip()[:1].isdigit() and parse_civic(tail) is None
        if is_place and (not place or tail_key == place or separator == " - "):
            place = place or tail_key
            body = head.strip(" ,-")
    civic: Civic | None = parse_civic(number) if number is not None else None
    if civic is None:
        found = _NUMBER_AT_END.search(body)
        if found is not None:
            civic = parse_civic(found["civic"])
            if civic is not None:
                body = body[: found.start()].strip(" ,-")
    street = body.strip(" ,-")
    key = street_key(street)
    if not key:
        return None
    if postcode is not None and not code:
        found_code = _POSTCODE.search(str(postcode))
        code = found_code.group(1) if found_code else ""
    return ParsedAddress(street, key, civic or Civic(), place, code)
