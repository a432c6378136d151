"""The two surveys geodistrict reads: vacant units and firms.

Aliases are the headers Italian offices really write; ``units`` are the words a
header may add to them (``Canone richiesto (€/mese)``, ``Superficie (m²)``,
``Numero addetti``), see :mod:`~geodistrict.sources.surveys.schema`.  Every
value of a choice field has a stable code (what the reader stores and the
analyses compare with), an Italian label (what a questionnaire prints), an
English label and the variants offices write (:class:`Choice`).
"""

from __future__ import annotations

from geodistrict.sources.surveys.schema import LAT, LON, Choice, SurveyField, SurveySchema
from geodistrict.sources.surveys.values import _ATECO_HELP, _ATECO_PATTERN, ateco_problem

__all__ = ["FIRMS", "VACANT_UNITS"]

# Words a header may add to a field's name or alias (normalised: see schema._header_key).
_DEGREES = ("wgs84", "wgs", "84", "gradi", "deg", "decimali", "dd", "epsg", "4326")
_SQUARE_METRES = ("m2", "mq", "mt2", "mtq", "sqm", "metri", "quadri", "quadrati")
_COUNT = ("n", "nr", "num", "numero", "no", "tot", "totale")


def _lon_field(description_suffix: str = "") -> SurveyField:
    return SurveyField(
        LON,
        "float",
        label_it="Longitudine (gradi decimali, WGS 84)",
        label_en="Longitude (decimal degrees, WGS 84)",
        aliases=("longitudine", "longitude", "lng", "long", "x", "coord_x", "coordinata_x"),
        units=_DEGREES,
        description=(
            "Longitude in decimal degrees, WGS 84 (EPSG:4326), e.g. `9.19`. Required unless "
            "the file carries its own geometry (GeoPackage, GeoJSON, Shapefile)."
            + description_suffix
        ),
    )


def _lat_field(description_suffix: str = "") -> SurveyField:
    return SurveyField(
        LAT,
        "float",
        label_it="Latitudine (gradi decimali, WGS 84)",
        label_en="Latitude (decimal degrees, WGS 84)",
        aliases=("latitudine", "latitude", "y", "coord_y", "coordinata_y"),
        units=_DEGREES,
        description=(
            "Latitude in decimal degrees, WGS 84 (EPSG:4326), e.g. `45.46`. Required unless "
            "the file carries its own geometry. A pair that looks swapped with the longitude "
            "is reported." + description_suffix
        ),
    )


_CONDITIONS = (
    Choice("good", "buono", variants=(
        "buona", "buone", "buoni", "buono stato", "in buono stato", "buone condizioni",
        "ottimo", "ottima", "ottime", "ottimo stato", "in ottimo stato", "nuovo", "nuova",
        "eccellente", "ristrutturato", "ristrutturata", "agibile", "excellent")),
    Choice("fair", "discreto", variants=(
        "discreta", "discrete", "discreti", "discreto stato", "in discreto stato",
        "sufficiente", "medio", "media", "normale", "da rinfrescare", "piccoli interventi",
        "average")),
    Choice("poor", "scadente", variants=(
        "scadenti", "pessimo", "pessima", "pessime", "pessimo stato", "in pessimo stato",
        "cattivo", "cattiva", "cattive", "cattivo stato", "in cattivo stato", "insufficiente",
        "degradato", "degradata", "fatiscente", "da ristrutturare", "bad")),
)  # fmt: skip
_OWNERS = (
    Choice("private", "privata", variants=(
        "privato", "privati", "proprietà privata", "persona fisica", "società",
        "società privata")),
    Choice("public", "pubblica", variants=(
        "pubblico", "pubblici", "pubbliche", "proprietà pubblica", "ente pubblico", "comune",
        "comunale", "di proprietà comunale", "demanio", "demaniale", "provincia",
        "provinciale", "regione", "regionale")),
    Choice("other", "altro", variants=(
        "altra", "altri", "mista", "misto", "proprietà mista", "ente religioso",
        "ente ecclesiastico", "parrocchia", "diocesi", "fondazione", "associazione")),
)  # fmt: skip


def _note_field(what: str) -> SurveyField:
    aliases = ("nota", "osservazioni", "annotazioni", "commenti", "commento",
               "note_rilevatore", "note_rilevazione", "notes", "remarks", "comments")  # fmt: skip
    return SurveyField(
        "note",
        "str",
        label_it="Note",
        label_en="Notes",
        aliases=aliases,
        description=f"Free notes of the office or the surveyor on the {what}, kept as they "
        "are; no analysis uses them.",
    )


VACANT_UNITS = SurveySchema(
    name="vacant_units",
    id_field="unit_id",
    same_entity=("address",),
    title_it="Censimento dei locali sfitti",
    title_en="Census of vacant units",
    fields=(
        SurveyField(
            "unit_id",
            "str",
            label_it="Codice del locale",
            label_en="Unit code",
            required=True,
            aliases=("id_unita", "id", "codice_unita", "id_locale", "codice_locale"),
            description="Identifier of the vacant unit, unique within the survey "
            "(e.g. the code used by the surveyors).",
        ),
        SurveyField(
            "address",
            "str",
            label_it="Indirizzo",
            label_en="Address",
            aliases=("indirizzo",),
            description="Street address of the unit as written by the surveyor, "
            "e.g. `Via Roma 12`.",
        ),
        _lon_field(),
        _lat_field(),
        SurveyField(
            "floor_area_m2",
            "float",
            label_it="Superficie (m²)",
            label_en="Floor area (m²)",
            aliases=(
                "superficie_mq",
                "superficie",
                "superficie_commerciale",
                "superficie_utile",
                "floor_area",
                "area_m2",
                "mq",
            ),
            units=_SQUARE_METRES,
            minimum=0,
            minimum_exclusive=True,
            description="Floor area of the unit in square metres; must be greater than 0.",
        ),
        SurveyField(
            "ground_floor",
            "bool",
            label_it="Al piano terra, con accesso dalla strada?",
            label_en="At ground floor, with access from the street?",
            aliases=("piano_terra", "piano_terreno", "al_piano_terra", "fronte_strada"),
            description="Whether the unit is at ground floor, with access from the street "
            "(sì/no, yes/no, x, 1/0).",
        ),
        SurveyField(
            "vacant_since",
            "date",
            label_it="Sfitto dal",
            label_en="Vacant since",
            aliases=("sfitto_dal", "sfitto_da", "libero_dal", "data_sfitto", "vuoto_dal"),
            not_future=True,
            description="Date since when the unit has been vacant: ISO `2023-05-01`, Italian "
            "`01/05/2023` or an Excel date; cannot be in the future.",
        ),
        SurveyField(
            "last_use",
            "str",
            label_it="Ultimo uso",
            label_en="Last use",
            aliases=("ultimo_uso", "ultima_attivita", "uso_precedente", "destinazione_precedente"),
            description="Last known use of the unit, free text (e.g. `bar`, `clothing shop`).",
        ),
        SurveyField(
            "condition",
            "choice",
            label_it="Stato di conservazione",
            label_en="State of repair",
            aliases=(
                "stato",
                "condizione",
                "condizioni",
                "stato_conservazione",
                "stato_manutenzione",
            ),
            options=_CONDITIONS,
            description="State of repair: `good` / *buono* (usable as it is), `fair` / "
            "*discreto* (needs minor works) or `poor` / *scadente* (needs major renovation).",
        ),
        SurveyField(
            "owner_type",
            "choice",
            label_it="Proprietà",
            label_en="Ownership",
            aliases=("proprieta", "tipo_proprieta", "tipo_proprietario", "tipologia_proprieta"),
            options=_OWNERS,
            description="Who owns the unit: `private` / *privata*, `public` / *pubblica* "
            "(municipality or another public body) or `other` / *altro* (church, "
            "foundation, mixed ownership...).",
        ),
        SurveyField(
            "asking_rent_eur_month",
            "float",
            label_it="Canone richiesto (€/mese)",
            label_en="Asking rent (€/month)",
            aliases=(
                "canone_richiesto",
                "canone",
                "asking_rent",
                "canone_mensile",
                "canone_locazione",
                "affitto",
                "affitto_richiesto",
                "affitto_mensile",
            ),
            units=("eur", "euro", "mese", "mensile", "month", "monthly"),
            minimum=0,
            description="Monthly rent asked by the owner, in euros; at least 0. Leave blank "
            "when unknown or not on the market.",
        ),
        _note_field("unit"),
    ),
)
"""Survey of the vacant commercial units (*locali sfitti*) of a district."""

_MARKETS = (
    Choice("local", "locale", variants=(
        "locali", "mercato locale", "territorio", "comunale", "provinciale", "provincia")),
    Choice("regional", "regionale", variants=("regionali", "regione", "mercato regionale")),
    Choice("national", "nazionale", variants=(
        "nazionali", "italia", "italiano", "mercato nazionale")),
    Choice("eu", "UE", "EU", variants=(
        "Unione europea", "europa", "europeo", "europea", "mercato europeo", "European Union",
        "Europe")),
    Choice("world", "mondo", variants=(
        "mondiale", "internazionale", "extra UE", "extra europeo", "resto del mondo",
        "mercato internazionale", "global", "international", "worldwide", "non EU")),
)  # fmt: skip
_CRITICAL_ISSUES = (
    Choice("infrastructure", "infrastrutture", variants=(
        "infrastruttura", "infrastrutturale", "carenza di infrastrutture", "reti",
        "banda larga", "connettività", "infrastructures")),
    Choice("security", "sicurezza", variants=(
        "criminalità", "microcriminalità", "furti", "ordine pubblico", "safety")),
    Choice("transport", "trasporti", variants=(
        "trasporto", "trasporto pubblico", "mobilità", "viabilità", "collegamenti",
        "accessibilità", "traffico", "transports")),
    Choice("labour", "manodopera", variants=(
        "lavoro", "personale", "forza lavoro", "mercato del lavoro", "reperimento personale",
        "mancanza di personale", "carenza di personale", "labor", "workforce")),
    Choice("bureaucracy", "burocrazia", variants=(
        "burocratica", "burocratiche", "adempimenti", "permessi", "autorizzazioni",
        "red tape")),
    Choice("credit", "credito", variants=(
        "accesso al credito", "finanziamenti", "finanza", "banche", "finance")),
    Choice("energy", "energia", variants=(
        "energetica", "costi energetici", "costo dell'energia", "costo energia", "bollette")),
    Choice("reputation", "reputazione", variants=(
        "immagine", "immagine del territorio", "attrattività", "image")),
    Choice("other", "altro", variants=("altra", "altre", "altri")),
)  # fmt: skip
_WORK_TABLES = (
    Choice("administration", "amministrazione", variants=(
        "amministrativo", "amministrativa", "pubblica amministrazione", "admin")),
    Choice("communication", "comunicazione", variants=(
        "comunicazione e marketing", "marketing", "promozione", "promozione del territorio")),
    Choice("training_work", "formazione e lavoro", "training and work", variants=(
        "formazione", "formazione lavoro", "lavoro e formazione",
        "training")),
    Choice("institutional_relations", "relazioni istituzionali", variants=(
        "rapporti istituzionali", "relazioni con le istituzioni",
        "rapporti con le istituzioni", "istituzioni")),
)  # fmt: skip


def _listed(options: tuple[Choice, ...]) -> str:
    return ", ".join(f"`{o.code}` / *{o.it}*" for o in options)


FIRMS = SurveySchema(
    name="firms",
    id_field="firm_id",
    same_entity=("name",),
    title_it="Questionario imprese",
    title_en="Firm questionnaire",
    fields=(
        SurveyField(
            "firm_id",
            "str",
            label_it="Codice impresa (n. questionario o partita IVA)",
            label_en="Firm code (questionnaire number or VAT number)",
            required=True,
            aliases=("id_impresa", "id", "codice_impresa", "id_azienda", "n_questionario"),
            description="Identifier of the firm, unique within the survey (e.g. the "
            "questionnaire number or the VAT number).",
        ),
        SurveyField(
            "name",
            "str",
            label_it="Ragione sociale",
            label_en="Registered name",
            required=True,
            aliases=(
                "ragione_sociale",
                "denominazione",
                "firm_name",
                "nome_impresa",
                "impresa",
                "azienda",
            ),
            description="Registered name of the firm (*ragione sociale*).",
        ),
        _lon_field(" Use the location of the premises surveyed, not the registered office."),
        _lat_field(),
        SurveyField(
            "municipality",
            "str",
            label_it="Comune della sede rilevata",
            label_en="Municipality of the premises",
            aliases=("comune", "comune_sede", "comune_unita_locale"),
            description="Municipality (*comune*) where the premises are.",
        ),
        SurveyField(
            "ateco",
            "str",
            label_it="Codice ATECO dell'attività principale",
            label_en="ATECO code of the main activity",
            required=True,
            aliases=(
                "codice_ateco",
                "ateco_code",
                "cod_ateco",
                "attivita_ateco",
                "ateco_principale",
            ),
            units=("2007", "2025"),
            pattern=_ATECO_PATTERN,
            pattern_help=_ATECO_HELP,
            validator=ateco_problem,
            description="Main activity code, ATECO 2007 or 2025: division `25`, group `25.1`, "
            "class `25.11`, category or subcategory `25.11.0` / `25.11.00`, optionally "
            "preceded by the section letter (`C25.11`). The code must exist in ATECO 2025 "
            "(the default) or 2007, whose codes are converted to 2025 and reported; the "
            "letter, if any, must be the division's section in that edition.",
        ),
        SurveyField(
            "employees",
            "int",
            label_it="Numero di addetti",
            label_en="Number of people working",
            aliases=("addetti", "dipendenti", "occupati"),
            units=_COUNT,
            minimum=0,
            description="Number of people working in the firm (*addetti*), at least 0.",
        ),
        SurveyField(
            "markets",
            "multichoice",
            label_it="Mercati di vendita",
            label_en="Markets the firm sells to",
            aliases=("mercati",),
            options=_MARKETS,
            description="Markets the firm sells to, one or more of "
            + _listed(_MARKETS)
            + ", separated by `;`, `|` or `,`.",
        ),
        SurveyField(
            "innovation_readiness",
            "int",
            label_it="Propensione all'innovazione (da 1 = nessuna a 5 = molto alta)",
            label_en="Readiness to innovate (1 = none to 5 = very high)",
            aliases=("propensione_innovazione",),
            minimum=1,
            maximum=5,
            description="Self-assessed readiness to innovate, from 1 (none) to 5 (very high).",
        ),
        SurveyField(
            "expansion_space_m2",
            "float",
            label_it="Spazio aggiuntivo necessario per espandersi (m²)",
            label_en="Additional space needed to expand (m²)",
            aliases=("spazio_espansione_mq", "spazio_espansione", "fabbisogno_spazi"),
            units=_SQUARE_METRES,
            minimum=0,
            description="Additional floor space the firm would need to expand, in square "
            "metres; 0 if none.",
        ),
        SurveyField(
            "exports",
            "bool",
            label_it="L'impresa esporta?",
            label_en="Does the firm sell abroad?",
            aliases=("export", "esporta"),
            description="Whether the firm sells abroad (sì/no).",
        ),
        SurveyField(
            "hiring_needs",
            "int",
            label_it="Assunzioni previste nei prossimi 12 mesi",
            label_en="People the firm plans to hire in the next 12 months",
            aliases=("fabbisogno_assunzioni", "assunzioni_previste"),
            units=_COUNT,
            minimum=0,
            description="Number of people the firm plans to hire in the next year.",
        ),
        SurveyField(
            "training_needs",
            "str",
            label_it="Fabbisogno di formazione del personale",
            label_en="Training needs of the staff",
            aliases=("fabbisogno_formazione",),
            description="Training the firm needs for its staff, free text.",
        ),
        SurveyField(
            "funding_access",
            "bool",
            label_it="Ha ottenuto finanziamenti pubblici o credito agevolato?",
            label_en="Has the firm obtained public funding or subsidised credit?",
            aliases=("accesso_finanziamenti",),
            description="Whether the firm has obtained public funding or subsidised credit "
            "(sì/no).",
        ),
        SurveyField(
            "critical_issues",
            "multichoice",
            label_it="Principali criticità del territorio",
            label_en="Main problems of the area",
            aliases=("criticita",),
            options=_CRITICAL_ISSUES,
            description="Main problems of the area for the firm, one or more of "
            + _listed(_CRITICAL_ISSUES)
            + ", separated by `;`, `|` or `,`.",
        ),
        SurveyField(
            "work_tables",
            "multichoice",
            label_it="Tavoli di lavoro del distretto a cui partecipare",
            label_en="District working groups to join",
            aliases=("tavoli_lavoro",),
            options=_WORK_TABLES,
            description="District working groups (*tavoli di lavoro*) the firm wants to join, "
            "one or more of " + _listed(_WORK_TABLES) + ", separated by `;`, `|` or `,`.",
        ),
        _note_field("firm"),
    ),
)
"""Survey of the firms of a productive district (*questionario imprese*)."""
