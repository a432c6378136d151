"""Make the blank firm questionnaire templates (CSV and XLSX) a district can hand out.

Run from the repository root (the output is committed)::

    .venv/bin/python data/templates/make_templates.py

``firms_template.csv`` holds the header row (the canonical field names that
:func:`geodistrict.sources.surveys.read_survey` reads) and one example row;
``firms_template.xlsx`` has a ``firms`` sheet with the same header and an
``istruzioni / instructions`` sheet describing every field in Italian and
English. Both are generated from the ``FIRMS`` schema, so they never drift.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from geodistrict.sources.surveys import FIRMS

HERE = Path(__file__).resolve().parent

# Italian notes for each field (the English ones come from the schema).
NOTES_IT = {
    "firm_id": "Codice univoco dell'impresa nel questionario (es. numero del questionario).",
    "name": "Ragione sociale dell'impresa.",
    "lon": "Longitudine in gradi decimali WGS 84 della sede rilevata (es. 9.62).",
    "lat": "Latitudine in gradi decimali WGS 84 della sede rilevata (es. 45.60).",
    "municipality": "Comune in cui si trova la sede.",
    "ateco": "Codice ATECO dell'attività principale (es. 25.62); formattare la colonna come "
    "testo per non perdere lo zero iniziale (01.11).",
    "employees": "Numero di addetti (0 o più).",
    "markets": "Mercati di riferimento, uno o più tra quelli elencati, separati da ';'.",
    "innovation_readiness": "Propensione all'innovazione da 1 (nessuna) a 5 (molto alta).",
    "expansion_space_m2": "Spazio aggiuntivo necessario per espandersi, in m²; 0 se nessuno.",
    "exports": "L'impresa esporta? (sì/no).",
    "hiring_needs": "Persone che l'impresa prevede di assumere nel prossimo anno.",
    "training_needs": "Formazione necessaria per il personale (testo libero).",
    "funding_access": "Ha ottenuto finanziamenti pubblici o credito agevolato? (sì/no).",
    "critical_issues": "Criticità del territorio, una o più tra quelle elencate, separate da ';'.",
    "work_tables": "Tavoli di lavoro a cui partecipare, uno o più tra quelli elencati, separati "
    "da ';'.",
    "note": "Note libere dell'ufficio o del rilevatore (facoltative).",
}
EXAMPLE = {
    "firm_id": "Q001", "name": "Esempio Meccanica Srl", "lon": "9.6201", "lat": "45.6032",
    "municipality": "Ciserano", "ateco": "25.62", "employees": "12",
    "markets": "regionale;nazionale", "innovation_readiness": "3", "expansion_space_m2": "200",
    "exports": "no", "hiring_needs": "2", "training_needs": "saldatura",
    "funding_access": "sì", "critical_issues": "trasporti;burocrazia",
    "work_tables": "formazione e lavoro", "note": "",
}  # fmt: skip
PRIVACY_IT = (
    "Le risposte sono riservate: il distretto pubblica solo dati aggregati su gruppi di almeno "
    "k imprese (production.min_group_size)."
)
PRIVACY_EN = (
    "Answers are confidential: the district publishes only aggregates over groups of at least "
    "k firms (production.min_group_size)."
)


def allowed_it(name: str) -> str:
    """The Italian labels a choice field accepts, for the notes (``locale, regionale...``)."""
    fld = FIRMS.get_field(name)
    return ", ".join(o.it for o in fld.options) if fld.options else ""


def allowed_en(name: str) -> str:
    """The codes a choice field stores, with their English labels."""
    fld = FIRMS.get_field(name)
    same = [o.en.casefold() == o.code.replace("_", " ").casefold() for o in fld.options]
    return ", ".join(
        o.code if plain else f"{o.code} ({o.en})"
        for o, plain in zip(fld.options, same, strict=True)
    )


def main() -> None:
    """Write ``firms_template.csv`` and ``firms_template.xlsx`` next to this script."""
    names = list(FIRMS.field_names)
    with (HERE / "firms_template.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        writer.writerow([EXAMPLE[n] for n in names])
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "firms"
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        # ATECO codes and ids as text, so Excel keeps leading zeros.
    for col, name in enumerate(names, start=1):
        if name in ("ateco", "firm_id"):
            for row in range(2, 502):
                sheet.cell(row=row, column=col).number_format = "@"
    notes = book.create_sheet("istruzioni - instructions")
    notes.append(["campo / field", "tipo / type", "obbligatorio / required",
                  "valori ammessi", "allowed values (codes)", "italiano", "English"])  # fmt: skip
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for fld in FIRMS.fields:
        required = "sì / yes" if fld.required or fld.name in ("lon", "lat") else "no"
        notes.append([fld.name, fld.kind, required, allowed_it(fld.name), allowed_en(fld.name),
                      NOTES_IT[fld.name], fld.description])  # fmt: skip
    notes.append([])
    notes.append(["privacy", "", "", "", "", PRIVACY_IT, PRIVACY_EN])
    for column, width in zip("ABCDEFG", (22, 12, 18, 40, 40, 70, 70), strict=True):
        notes.column_dimensions[column].width = width
    book.properties.creator = "geodistrict"
    book.save(HERE / "firms_template.xlsx")
    lines = [
        "# Firm questionnaire templates / Modelli del questionario imprese",
        "",
        "Generated by `make_templates.py` from the `FIRMS` schema; do not edit by hand.",
        "`firms_template.csv` / `firms_template.xlsx` (sheet `firms`): the header row and, in",
        "the CSV, one example row (delete it before use). The XLSX sheet",
        "`istruzioni - instructions` repeats the notes below.",
        "",
        "Choice fields accept the Italian labels below (or the codes, or the variants listed",
        "in `docs/configuration.md`); the reader stores the code. / I campi a scelta accettano",
        "le etichette italiane elencate (o i codici); il programma registra il codice.",
        "",
        f"*{PRIVACY_IT}* {PRIVACY_EN}",
        "",
        "| campo / field | italiano | English |",
        "| --- | --- | --- |",
    ]
    for fld in FIRMS.fields:
        note_it, note_en = NOTES_IT[fld.name], fld.description
        if fld.options:
            note_it += " Valori: " + allowed_it(fld.name) + "."
        lines.append(f"| `{fld.name}` | {note_it} | {note_en.replace('|', chr(92) + '|')} |")
    (HERE / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
