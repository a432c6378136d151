"""Label tables: every machine name a person reads has an Italian and an English label.

The labels are the ``msgctxt`` entries of ``geodistrict/locale/<language>/LC_MESSAGES/
labels.po`` (read by :func:`geodistrict.i18n.label`); the machine names never change.
The fast tests read the catalogues only; the slow ones check the columns and the
labelled values of every layer the two samples write (Helsinki in English, Piana
Rotaliana in Italian).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from babel.messages.pofile import read_po

from geodistrict import i18n
from geodistrict.catalogue import (
    LABEL_KINDS,
    LAYERS,
    VALUE_KINDS,
    column_labels,
    layer_info,
    value_label,
)
from geodistrict.errors import ParameterError
from geodistrict.priority import CRITERIA
from geodistrict.taxonomy import default_taxonomy_path

LABEL_FILES = {
    language: i18n.LOCALE_DIR / language / i18n.DOMAIN_DIR / "labels.po"
    for language in i18n.LANGUAGES
}
CLI_FILE = i18n.LOCALE_DIR / "it" / i18n.DOMAIN_DIR / "cli.po"


def _entries(path: Path) -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> msgstr of a PO file, read strictly (abort on a syntax error)."""
    with path.open("rb") as handle:
        po = read_po(handle, abort_invalid=True)
    return {(m.context, str(m.id)): m.string for m in po if m.id}  # type: ignore[misc]


def _labelled(name: str, kind: str, language: str) -> bool:
    """Whether ``name`` has its own label (not the fallback of the machine name)."""
    found = i18n.catalogue(language).get((kind, name))
    return isinstance(found, str) and bool(found.strip()) and found != name


# --- the catalogues themselves (no run) ------------------------------------------------------


def test_label_catalogues_parse_and_use_exactly_the_four_contexts() -> None:
    assert LABEL_KINDS == ("column", "category", "status", "criterion")
    tables = {language: _entries(path) for language, path in LABEL_FILES.items()}
    for language, entries in tables.items():
        contexts = {context for context, _ in entries}
        assert contexts == set(LABEL_KINDS), (language, contexts)
        empty = [key for key, text in entries.items() if not str(text).strip()]
        assert not empty, (language, empty)
        same = [key for key, text in entries.items() if text == key[1]]
        assert not same, f"{language}: labels that repeat the machine name: {same}"
    # the two languages label the same machine names
    assert set(tables["it"]) == set(tables["en"])
    # and the Italian labels are Italian: they differ from the English ones for most names
    differ = sum(tables["it"][k] != tables["en"][k] for k in tables["it"])
    assert differ > 0.9 * len(tables["it"])


def test_cli_catalogue_parses_and_keeps_the_placeholders() -> None:
    import re

    with CLI_FILE.open("rb") as handle:
        po = read_po(handle, abort_invalid=True)
    messages = [m for m in po if m.id]
    assert len(messages) > 50
    for message in messages:
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        texts = message.string if isinstance(message.string, tuple | list) else (message.string,)
        assert all(texts), message.id
        wanted = set(re.findall(r"\{[^}]*\}", ids[-1]))
        for text in texts:
            # a translation may leave out {n} in the singular ("un'altra riga"), never add one
            assert set(re.findall(r"\{[^}]*\}", text)) <= wanted | set(
                re.findall(r"\{[^}]*\}", ids[0])
            ), (message.id, text)
        assert set(re.findall(r"\{[^}]*\}", texts[-1])) == wanted, (message.id, texts[-1])


def test_every_category_of_the_taxonomy_has_its_labels() -> None:
    taxonomy = yaml.safe_load(default_taxonomy_path().read_text(encoding="utf-8"))
    named = {**taxonomy["categories"], **taxonomy["everyday"]}
    assert len(named) >= 19
    for key, entry in named.items():
        assert i18n.label(key, kind="category", language="it") == entry["it"], key
        assert i18n.label(key, kind="category", language="en") == entry["en"], key
    assert value_label("personal_services", kind="category", language="it") == (
        "Servizi alla persona"
    )


def test_every_ranking_criterion_has_its_labels() -> None:
    for name, criterion in CRITERIA.items():
        for language in i18n.LANGUAGES:
            assert _labelled(name, "criterion", language), (name, language)
        assert criterion.title("en").lower().startswith(criterion.label.split()[0].lower())
    assert CRITERIA["vacancy_months"].title("it") == "Durata dello sfitto"
    assert value_label("footfall;vacancy_months", kind="criterion", language="it") == (
        "Indicatore di passaggio; Durata dello sfitto"
    )


def test_layer_titles_and_descriptions_in_both_languages() -> None:
    for name, info in LAYERS.items():
        assert info.title("it") == info.title_it and info.title("en") == info.title_en, name
        assert info.description("it") == info.description_it, name
        assert info.title("it") != info.title("en"), name
    with i18n.use_language("it"):
        assert layer_info("vacant_units").title() == "Locali sfitti e priorità di riattivazione"
    with i18n.use_language("en"):
        assert layer_info("vacant_units").title() == "Vacant units and reactivation priority"
    with pytest.raises(ParameterError, match="'de'"):
        layer_info("streets").title("de")


def test_value_and_column_labels() -> None:
    for layer, kinds in VALUE_KINDS.items():
        assert layer in LAYERS, layer
        assert set(kinds.values()) <= set(LABEL_KINDS), layer
        for column in kinds:
            assert _labelled(column, "column", "it"), (layer, column)
    assert value_label(None, kind="status") == ""
    assert value_label(float("nan"), kind="status") == ""
    assert value_label("as expected", kind="status", language="it") == "In linea con l'atteso"
    assert value_label("a_value_nobody_labelled", kind="status", language="it") == (
        "a value nobody labelled"
    )
    with pytest.raises(ParameterError, match="'colour'"):
        value_label("x", kind="colour")
    # a column whose meaning depends on the layer takes the layer's label, else its own
    labels = column_labels("vacant_units", ["score", "vacancy_months"], language="it")
    assert labels == {"score": "Punteggio di priorità", "vacancy_months": "Mesi di sfitto"}
    assert column_labels("bike_connectivity", ["score"], language="en")["score"] == (
        "Low-stress connectivity score"
    )
    assert column_labels("streets", ["score"], language="en") == {"score": "Score"}


# --- the layers the two samples write --------------------------------------------------------


def _layers(folder: Path) -> dict[str, dict[str, object]]:
    manifest = json.loads((folder / "layers.json").read_text(encoding="utf-8"))
    return {name: entry for name, entry in manifest["layers"].items()}


@pytest.mark.slow
def test_every_column_of_every_layer_has_an_italian_and_an_english_label(
    sample_output: Path, italian_output: Path
) -> None:
    missing = []
    seen = 0
    for folder in (sample_output, italian_output):
        for name, entry in _layers(folder).items():
            columns = list(entry["columns"])  # type: ignore[call-overload]
            for language in i18n.LANGUAGES:
                labels = column_labels(name, columns, language=language)
                for column in columns:
                    seen += 1
                    if not _labelled(column, "column", language) or labels[column] == column:
                        missing.append(f"{language}: {name}.{column}")
    assert seen > 500
    assert not missing, "columns without a label:\n" + "\n".join(sorted(set(missing)))


@pytest.mark.slow
def test_every_labelled_value_of_the_samples_has_its_labels(
    sample_output: Path, italian_output: Path
) -> None:
    missing = []
    values = 0
    for folder in (sample_output, italian_output):
        for name, entry in _layers(folder).items():
            kinds = VALUE_KINDS.get(name, {})
            if not kinds:
                continue
            frame = pd.read_parquet(folder / str(entry["parquet"]), columns=list(kinds))
            for column, kind in kinds.items():
                for value in frame[column].dropna().astype(str).unique():
                    for part in (p.strip() for p in value.split(";")):
                        if not part:
                            continue
                        values += 1
                        for language in i18n.LANGUAGES:
                            if not _labelled(part, kind, language):
                                missing.append(f"{language}: {name}.{column} = {part!r}")
    assert values > 100
    assert not missing, "values without a label:\n" + "\n".join(sorted(set(missing)))
    # the labels agree with the Italian and English columns the layer already carries
    # (the Helsinki sample has recommended uses; the Italian one has none, see its notes)
    checked = 0
    for folder in (sample_output, italian_output):
        units = pd.read_parquet(folder / "parquet" / "vacant_units.parquet")
        uses = units["recommended_uses"].fillna("")
        uses = uses[uses.astype(bool)]
        for language, column in (("it", "recommended_uses_it"), ("en", "recommended_uses_en")):
            shown = [value_label(u, kind="category", language=language) for u in uses]
            assert shown == units.loc[uses.index, column].tolist(), (folder.name, language)
        checked += len(uses)
    assert checked > 0
