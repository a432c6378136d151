"""The layer catalogue: title, description and sources of every layer, in English and Italian.

The store writes this metadata into the GeoPackage and the manifest; the
publishing layer turns it into OGC API collection titles and descriptions.
Analyses register their layers here as they are added.

It also says how to read the machine names a layer holds: :func:`column_labels`
gives the readable label of each column, :func:`value_label` the label of a
value (a category, a status, a criterion), and :data:`VALUE_KINDS` which
columns hold labelled values. The labels are the ``msgctxt`` ``column``,
``category``, ``status`` and ``criterion`` entries of the ``labels.po``
catalogues (read with :func:`geodistrict.i18n.label`); the machine names
themselves never change.

Examples
--------
>>> from geodistrict.catalogue import column_labels, layer_info, value_label
>>> layer_info("vacant_units").title("it")
'Locali sfitti e priorità di riattivazione'
>>> column_labels("vacant_units", ["vacancy_months"], language="it")
{'vacancy_months': 'Mesi di sfitto'}
>>> value_label("food;fashion", kind="category", language="it")
'Alimentare; Abbigliamento e moda'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from geodistrict.errors import ParameterError
from geodistrict.i18n import LANGUAGES, get_language, label
from geodistrict.sources.osm import OSM_ATTRIBUTION

__all__ = [
    "LABEL_KINDS",
    "LAYERS",
    "VALUE_KINDS",
    "LayerInfo",
    "column_labels",
    "layer_info",
    "value_label",
]

#: The contexts (``msgctxt``) of the label tables, as :func:`geodistrict.i18n.label` takes them.
LABEL_KINDS = ("column", "category", "status", "criterion")


def _checked_language(language: str | None) -> str:
    """``language``, or the current one; ParameterError for a language we do not speak."""
    if language is None:
        return get_language()
    if language not in LANGUAGES:
        raise ParameterError(
            f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}"
        )
    return language


@dataclass(frozen=True)
class LayerInfo:
    """Descriptive metadata of one output layer."""

    name: str
    title_en: str
    title_it: str
    description_en: str
    description_it: str
    sources: tuple[str, ...] = ("osm",)
    step: str = "base"

    @property
    def attribution(self) -> str:
        """Credit line: OSM's whenever OpenStreetMap is among the sources."""
        return OSM_ATTRIBUTION if "osm" in self.sources else ""

    def title(self, language: str | None = None) -> str:
        """The title in ``language`` (default: the current language).

        Examples
        --------
        >>> from geodistrict.catalogue import layer_info
        >>> layer_info("bike_network").title("en")
        'Bike network and traffic stress'
        """
        return self.title_it if _checked_language(language) == "it" else self.title_en

    def description(self, language: str | None = None) -> str:
        """The description in ``language`` (default: the current language).

        Examples
        --------
        >>> from geodistrict.catalogue import layer_info
        >>> layer_info("streets").description("it")[:6]
        'Strade'
        """
        return self.description_it if _checked_language(language) == "it" else self.description_en


_LAYERS = [
    LayerInfo(
        "study_area",
        "Study area",
        "Area di studio",
        "The district's study area (without the analysis buffer).",
        "L'area di studio del distretto (senza la fascia di analisi).",
        sources=("config",),
    ),
    LayerInfo(
        "streets",
        "Streets",
        "Strade",
        "OSM streets between intersections, with walking and cycling access flags and tags.",
        "Strade OSM tra incroci, con accessibilità pedonale e ciclabile e i tag OSM.",
    ),
    LayerInfo(
        "pois",
        "Points of interest",
        "Punti di interesse",
        "OSM shops, amenities, crafts, offices, tourism, leisure and healthcare places, "
        "and units tagged vacant or disused; polygons reduced to a point inside them.",
        "Negozi, servizi, artigiani, uffici, turismo, tempo libero e sanità da OSM, e "
        "locali segnati come sfitti o dismessi; i poligoni ridotti a un punto interno.",
    ),
    LayerInfo(
        "buildings",
        "Buildings",
        "Edifici",
        "OSM building footprints with use, levels and address.",
        "Sagome degli edifici OSM con uso, piani e indirizzo.",
    ),
    LayerInfo(
        "landuse",
        "Land use",
        "Uso del suolo",
        "OSM land-use polygons clipped to the study area.",
        "Poligoni di uso del suolo OSM ritagliati sull'area di studio.",
    ),
    LayerInfo(
        "transit_stops",
        "Public transport stops",
        "Fermate del trasporto pubblico",
        "OSM stations and stops with kind (station/stop) and mode (bus, tram, subway, rail...).",
        "Stazioni e fermate OSM con tipo (stazione/fermata) e modo (bus, tram, metro, treno...).",
    ),
    LayerInfo(
        "commercial_units",
        "Commercial units",
        "Unità commerciali",
        "Active shops, bars, services and offices from OSM, one point each, with merchandise "
        "category and subcategory (geodistrict taxonomy) and the retail centre they are in.",
        "Negozi, pubblici esercizi, servizi e uffici attivi da OSM, un punto ciascuno, con "
        "categoria e sottocategoria merceologica (tassonomia geodistrict) e il polo commerciale.",
        step="commerce",
    ),
    LayerInfo(
        "commercial_hex",
        "Commercial units by hexagon",
        "Unità commerciali per esagono",
        "H3 hexagons with commercial units per category, units per hectare, diversity "
        "(Shannon, Hill numbers) and walking distance to everyday needs.",
        "Esagoni H3 con le unità commerciali per categoria, unità per ettaro, diversità "
        "(Shannon, numeri di Hill) e distanza a piedi dai servizi quotidiani.",
        step="commerce",
    ),
    LayerInfo(
        "street_frontage",
        "Commercial street frontage",
        "Fronti commerciali delle strade",
        "Walkable street segments with the commercial units fronting them per 100 m.",
        "Tratti di strada pedonabili con le unità commerciali affacciate ogni 100 m.",
        step="commerce",
    ),
    LayerInfo(
        "commercial_access",
        "Walking access to commerce",
        "Accessibilità pedonale al commercio",
        "Street nodes with the commercial units of each category within 400, 800 and 1600 m "
        "of walking along the street network.",
        "Nodi stradali con le unità commerciali di ogni categoria raggiungibili a piedi entro "
        "400, 800 e 1600 m lungo la rete stradale.",
        step="commerce",
    ),
    LayerInfo(
        "retail_centres",
        "Retail centres",
        "Poli commerciali",
        "Retail centres delineated by the CDRC method (contiguous H3 tracts of retail units; "
        "Macdonald, Dolega & Singleton 2022), or an official DUC perimeter, with units, "
        "vacancy, diversity, dominant categories, rank and tier.",
        "Poli commerciali delimitati con il metodo CDRC (aggregati contigui di celle H3 con "
        "unità commerciali al dettaglio; Macdonald, Dolega & Singleton 2022) o dal perimetro "
        "DUC ufficiale, con unità, sfitti, diversità, categorie prevalenti, rango e livello.",
        sources=("osm", "surveys"),
        step="commerce",
    ),
    LayerInfo(
        "category_gaps",
        "Missing categories and everyday needs",
        "Categorie mancanti e servizi quotidiani",
        "Observed vs expected units per merchandise category in the district and each centre "
        "(reference mix), and the share of homes within a walk of each everyday need.",
        "Unità osservate e attese per categoria merceologica nel distretto e in ogni polo "
        "(mix di riferimento), e quota di abitazioni a distanza pedonale da ogni servizio "
        "quotidiano.",
        sources=("osm", "config"),
        step="commerce",
    ),
    LayerInfo(
        "firms",
        "Firms: questionnaire respondents by H3 cell",
        "Imprese: rispondenti al questionario per cella H3",
        "Where the questionnaire respondents are: one point per H3 cell holding at least k "
        "respondents (the finest resolution that reaches k, down to 6), with nothing to "
        "filter on; numbers that would let published layers be combined to isolate fewer "
        "than k firms are hidden (disclosure audit).",
        "Dove sono le imprese che hanno risposto al questionario: un punto per cella H3 con "
        "almeno k rispondenti (la risoluzione più fine che arriva a k, fino alla 6), senza "
        "attributi filtrabili; i numeri che combinati con gli altri strati isolerebbero meno "
        "di k imprese sono nascosti (verifica di riservatezza).",
        sources=("survey", "osm"),
        step="production",
    ),
    LayerInfo(
        "sector_specialisation",
        "Sector specialisation (location quotients)",
        "Specializzazione settoriale (quozienti di localizzazione)",
        "Location quotient of each ATECO sector in each municipality or hexagon against the "
        "district; cells of fewer than k firms are suppressed.",
        "Quoziente di localizzazione di ogni settore ATECO per comune o esagono rispetto al "
        "distretto; le celle con meno di k imprese sono soppresse.",
        sources=("survey",),
        step="production",
    ),
    LayerInfo(
        "firm_clusters",
        "Sector clusters of firms",
        "Addensamenti settoriali di imprese",
        "Spatial clusters (DBSCAN) of the firms of one ATECO sector, of at least k firms, "
        "drawn as the hull of their H3 cells.",
        "Addensamenti spaziali (DBSCAN) delle imprese di uno stesso settore ATECO, di almeno "
        "k imprese, disegnati come inviluppo delle loro celle H3.",
        sources=("survey",),
        step="production",
    ),
    LayerInfo(
        "service_sites",
        "Shared-service sites",
        "Sedi dei servizi condivisi",
        "Sites for shared services (job and training desk, business help desk) that cover "
        "the most firms or employees within a travel distance (maximal covering model).",
        "Sedi per servizi condivisi (sportello lavoro e formazione, sportello imprese) che "
        "coprono più imprese o addetti entro una distanza di viaggio (modello di massima "
        "copertura).",
        sources=("survey", "osm"),
        step="production",
    ),
    LayerInfo(
        "production_needs",
        "Firm needs, critical issues and space by area and work table",
        "Fabbisogni, criticità e spazi delle imprese per area e tavolo di lavoro",
        "Needs and critical issues of the firms by municipality, core/extension zone, "
        "district and work table, with response rate against OSM firms and expansion "
        "demand against vacant space; groups of fewer than k firms are suppressed.",
        "Fabbisogni e criticità delle imprese per comune, zona (nucleo/estensione), "
        "distretto e tavolo di lavoro, con tasso di risposta rispetto alle imprese OSM e "
        "domanda di spazi rispetto ai locali sfitti; i gruppi con meno di k imprese sono "
        "soppressi.",
        sources=("survey", "osm"),
        step="production",
    ),
    LayerInfo(
        "firm_coverage",
        "Questionnaire coverage against the business register",
        "Copertura del questionario rispetto al Registro Imprese",
        "Active local units of the business register and questionnaire respondents by "
        "municipality, ATECO section and for the district, with the response rate; "
        "counts below k firms are suppressed, with secondary suppression along the totals.",
        "Unità locali attive del Registro Imprese e imprese che hanno risposto al "
        "questionario per comune, sezione ATECO e per il distretto, con il tasso di "
        "risposta; i conteggi sotto k imprese sono soppressi, con soppressione secondaria "
        "sui totali.",
        sources=("register", "survey"),
        step="production",
    ),
    LayerInfo(
        "vacant_units",
        "Vacant units and reactivation priority",
        "Locali sfitti e priorità di riattivazione",
        "Vacant commercial units from the district survey and OSM vacancy tags (the same "
        "unit merged once), with vacancy duration and rates, the priority criteria, "
        "weighted-sum and TOPSIS scores under the chosen preset (rigenerazione, "
        "consolidamento, bando), rank, the rank under each preset, robustness to the method "
        "and the weights (P(top k), rank interval, stability), an explanation in words "
        "(English and Italian) and recommended uses. Survey data of the sample district "
        "are illustrative.",
        "Locali commerciali sfitti dal rilievo del distretto e dai tag OSM (lo stesso locale "
        "unito una volta), con durata e tassi di sfitto, i criteri di priorità, punteggi a "
        "somma pesata e TOPSIS secondo il profilo scelto (rigenerazione, consolidamento, "
        "bando), posizione in graduatoria, la posizione con ciascun profilo, robustezza al "
        "metodo e ai pesi (P(primi k), intervallo di posizione, stabilità), una spiegazione "
        "a parole (in italiano e in inglese) e gli usi consigliati. I dati di rilievo del "
        "distretto di esempio sono illustrativi.",
        sources=("survey", "osm"),
        step="vacancy",
    ),
    LayerInfo(
        "bike_network",
        "Bike network and traffic stress",
        "Rete ciclabile e stress da traffico",
        "Streets and paths cyclists may legally ride, one line per street edge, with the "
        "infrastructure type and the Level of Traffic Stress (LTS 1-4, Furth/Mekuria rules) "
        "along and against the way, and the assumptions made where maxspeed or lanes are "
        "missing.",
        "Strade e percorsi percorribili in bicicletta, una linea per tratto, con il tipo di "
        "infrastruttura e il livello di stress da traffico (LTS 1-4, regole Furth/Mekuria) nei "
        "due sensi, e le ipotesi fatte dove mancano limite di velocità o corsie.",
        step="cycling",
    ),
    LayerInfo(
        "low_stress_islands",
        "Low-stress cycling islands",
        "Isole ciclabili a basso stress",
        "Connected parts of the network at low traffic stress (LTS up to the configured "
        "threshold), with street length, destinations, commercial units and origins inside.",
        "Parti connesse della rete a basso stress (LTS fino alla soglia configurata), con "
        "lunghezza delle strade, destinazioni, unità commerciali e origini contenute.",
        step="cycling",
    ),
    LayerInfo(
        "bike_connectivity",
        "Low-stress cycling connectivity",
        "Connettività ciclabile a basso stress",
        "Per origin (residential building or hexagon), the destinations within the bike-shed "
        "reachable on low-stress routes and on any route, by category, and the share score.",
        "Per origine (edificio residenziale o esagono), le destinazioni entro la distanza "
        "ciclabile raggiungibili su percorsi a basso stress e su qualsiasi percorso, per "
        "categoria, e il punteggio di quota.",
        step="cycling",
    ),
    LayerInfo(
        "bike_gaps",
        "Missing cycling links, ranked",
        "Collegamenti ciclabili mancanti, in graduatoria",
        "Street upgrades and short new connectors between low-stress islands, picked one "
        "after the other by new low-stress origin-destination pairs per metre, with benefit, "
        "cumulative benefit and cost proxy (length).",
        "Riqualificazioni di strade e brevi nuovi collegamenti tra isole a basso stress, scelti "
        "uno dopo l'altro per nuove coppie origine-destinazione a basso stress per metro, con "
        "beneficio, beneficio cumulato e costo indicativo (lunghezza).",
        step="cycling",
    ),
    LayerInfo(
        "bike_circuits",
        "District cycling circuit",
        "Circuito ciclabile del distretto",
        "A closed loop on the bike network, preferring low-stress streets, joining the retail "
        "centres and key places (stations, town hall, parks); one line per leg, in order.",
        "Un anello chiuso sulla rete ciclabile, preferendo strade a basso stress, che collega i "
        "centri commerciali e i luoghi chiave (stazioni, municipio, parchi); una linea per "
        "tappa, in ordine.",
        step="cycling",
    ),
    LayerInfo(
        "info_points",
        "Digital information points",
        "Totem informativi digitali",
        "Sites for digital information totems covering the circuit and the key places best "
        "(maximal covering location model).",
        "Siti per totem informativi digitali che coprono al meglio il circuito e i luoghi "
        "chiave (modello di massima copertura).",
        step="cycling",
    ),
    LayerInfo(
        "isochrones",
        "Walking and cycling isochrones",
        "Isocrone a piedi e in bicicletta",
        "Areas reached in 5, 10 and 15 minutes on foot, by bike and by bike on low-stress "
        "streets only, from the retail centres and the stations.",
        "Aree raggiunte in 5, 10 e 15 minuti a piedi, in bicicletta e in bicicletta solo su "
        "strade a basso stress, dai centri commerciali e dalle stazioni.",
        step="cycling",
    ),
    LayerInfo(
        "population",
        "Residents",
        "Popolazione residente",
        "Residents by ISTAT census section (2021 census, CC BY 4.0), or, without a census "
        "file, estimated per residential building from its floor area (footprint x levels) "
        "scaled to the configured total; estimated rows are flagged estimated=True.",
        "Residenti per sezione di censimento ISTAT (Censimento 2021, CC BY 4.0) oppure, in "
        "assenza dei dati censuari, stimati per edificio residenziale dalla superficie lorda "
        "(sedime x piani) e riproporzionati al totale indicato nella configurazione; le righe "
        "stimate hanno estimated=True.",
        sources=("osm", "istat", "config"),
        step="indicators",
    ),
    LayerInfo(
        "indicators",
        "Agenda 2030 and programme indicators",
        "Indicatori Agenda 2030 e di programma",
        "One row per indicator and scope (district, comune or census section): SDG 11.2.1 "
        "(access to public transport) and 11.7.1 (open public space) by UN-Habitat's method, "
        "everyday-needs coverage, commercial units per 1,000 residents, vacancy rate and "
        "low-stress cycling connectivity, with value, unit, method, source, date and whether "
        "the residents are estimated.",
        "Una riga per indicatore e ambito (distretto, comune o sezione di censimento): SDG "
        "11.2.1 (accesso al trasporto pubblico) e 11.7.1 (spazi pubblici aperti) secondo il "
        "metodo UN-Habitat, copertura dei servizi quotidiani, unità commerciali ogni 1.000 "
        "residenti, tasso di sfitto e connettività ciclabile a basso stress, con valore, unità "
        "di misura, metodo, fonte, data e indicazione se i residenti sono stimati.",
        sources=("osm", "istat", "survey", "config"),
        step="indicators",
    ),
]

LAYERS: dict[str, LayerInfo] = {layer.name: layer for layer in _LAYERS}


def layer_info(name: str) -> LayerInfo:
    """Metadata of a layer; layers not in the catalogue get a generic entry."""
    if name in LAYERS:
        return LAYERS[name]
    title = name.replace("_", " ").capitalize()
    return LayerInfo(name, title, title, f"Layer {name!r}.", f"Layer {name!r}.", sources=())


#: Columns whose values are machine names with a label, by layer: the kind of
#: label (:data:`LABEL_KINDS`) each column's values take. A value may list
#: several names joined by ``;`` (``recommended_uses``): each is labelled.
VALUE_KINDS: dict[str, dict[str, str]] = {
    "commercial_units": {"category": "category"},
    "commercial_hex": {"dominant_category": "category"},
    "street_frontage": {"dominant_category": "category"},
    "retail_centres": {
        "dominant_1": "category",
        "dominant_2": "category",
        "dominant_3": "category",
        "tier": "status",
        "source": "status",
    },
    "category_gaps": {"category": "category", "status": "status", "scope": "status"},
    "transit_stops": {"kind": "status", "mode": "status"},
    "vacant_units": {
        "recommended_uses": "category",
        "missing_categories": "category",
        "top_criteria": "criterion",
        "preset": "status",
        "condition": "status",
        "owner_type": "status",
        "source": "status",
    },
    "bike_network": {"infra": "status", "infra_fwd": "status", "infra_bwd": "status"},
    "bike_connectivity": {"kind": "status"},
    "bike_gaps": {"kind": "status"},
    "bike_circuits": {"from_kind": "status"},
    "isochrones": {"mode": "status", "source_kind": "status"},
    "firm_clusters": {"zone": "status"},
    "sector_specialisation": {"zone": "status", "area_kind": "status", "lq_reference": "status"},
    "service_sites": {"mode": "status", "weight": "status"},
    "production_needs": {"level": "status", "zone": "status"},
    "firm_coverage": {"level": "status", "zone": "status"},
    "population": {"home_basis": "status", "levels_source": "status"},
}


def column_labels(
    layer_name: str, columns: Iterable[str], *, language: str | None = None
) -> dict[str, str]:
    """Readable labels of a layer's columns, in ``language`` (default: the current one).

    A column whose meaning depends on the layer (``score``, ``rank``, ``kind``...)
    takes the label of ``<layer>.<column>`` when the tables have one, else the
    column's own label. Machine names stay the keys.

    Parameters
    ----------
    layer_name : str
        The layer (e.g. ``"vacant_units"``).
    columns : iterable of str
        Its column names.
    language : str, optional
        ``"it"`` or ``"en"``; default: the current language.

    Returns
    -------
    dict
        ``{column: label}`` in the order given.

    Examples
    --------
    >>> from geodistrict.catalogue import column_labels
    >>> column_labels("bike_gaps", ["rank", "cost_m"], language="en")
    {'rank': 'Order of construction', 'cost_m': 'Cost proxy (m)'}
    """
    lang = _checked_language(language)
    out: dict[str, str] = {}
    for column in columns:
        specific = f"{layer_name}.{column}"
        found = label(specific, kind="column", language=lang)
        out[column] = (
            found
            if found != specific.replace("_", " ")
            else label(column, kind="column", language=lang)
        )
    return out


def value_label(value: Any, *, kind: str, language: str | None = None) -> str:
    """The readable label of a value (a category, status or criterion name).

    Lists joined by ``;`` are labelled item by item and joined by ``"; "``;
    a missing value gives ``""``; a name nobody labelled reads as itself
    with spaces.

    Parameters
    ----------
    value : str
        The machine name, e.g. ``"personal_services"`` or ``"as expected"``.
    kind : {"column", "category", "status", "criterion"}
        The label table.
    language : str, optional
        ``"it"`` or ``"en"``; default: the current language.

    Examples
    --------
    >>> from geodistrict.catalogue import value_label
    >>> value_label("personal_services", kind="category", language="it")
    'Servizi alla persona'
    >>> value_label("under-represented", kind="status", language="it")
    'Sottorappresentata'
    """
    if kind not in LABEL_KINDS:
        raise ParameterError(f"kind must be one of {', '.join(LABEL_KINDS)}, got {kind!r}")
    if value is None or (isinstance(value, float) and value != value):
        return ""
    lang = _checked_language(language)
    parts = [p.strip() for p in str(value).split(";")]
    return "; ".join(label(p, kind=kind, language=lang) for p in parts if p)
