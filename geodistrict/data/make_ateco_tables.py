"""Write the ATECO 2025 tables that geodistrict ships, from ISTAT's files.

Source: the ``ateco`` package (PyPI, version 1.0.0; code MIT, data © ISTAT,
CC-BY 4.0), which vendors, unchanged, ISTAT's *Struttura e note esplicative
ATECO 2025*, *ATECO 2007* and *ATECO 2007 aggiornamento 2022*, and the
*Corrispondenza bidirezionale ATECO 2025 vs ATECO 2007 aggiornamento 2022*
(``ateco.provenance()`` lists the ISTAT addresses and SHA-256 of each file).
geodistrict does not depend on the package at run time: this script copies
what it needs into two CSV files next to it.

* ``ateco2025.csv``: every code of ATECO 2025 (22 sections, 87 divisions,
  groups, classes, categories, subcategories): ``level``, ``code``,
  ``parent``, ``section``, ``label_it`` (ISTAT's title; all-capital titles
  written in sentence case) and ``label_en`` (the NACE Rev. 2.1 title, for
  sections and divisions only).
* ``ateco2007_2025.csv``: for every code of ATECO 2007 and of its 2022 update
  (all levels but sections), each ATECO 2025 code ISTAT's correspondence
  gives for it: ``code_2007``, ``code_2025`` and ``whole`` (1 when the 2025
  code comes wholly from that 2007 code: ISTAT's *copertura* ``TOTALE`` on the
  2025 side).  ATECO 2007 and its 2022 update are equal down to the class (4
  digits) and differ in 22 subcategories; the five 2007 subcategories the
  update replaced (``01.13.20``, ``01.19.20``, ``16.23.20``, ``93.21.00``,
  ``97.00.00``) take the correspondence of their category or class.

Run (the package is needed only here)::

    pip install --target /tmp/ateco-site ateco==1.0.0
    PYTHONPATH=/tmp/ateco-site python geodistrict/data/make_ateco_tables.py
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: NACE Rev. 2.1 titles (Commission Delegated Regulation (EU) 2023/137) of the
#: sections and divisions; ATECO 2025 equals NACE Rev. 2.1 down to the class.
LABEL_EN = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Publishing, broadcasting, and content production and distribution activities",
    "K": "Telecommunication, computer programming, consulting, computing infrastructure, "
    "and other information service activities",
    "L": "Financial and insurance activities",
    "M": "Real estate activities",
    "N": "Professional, scientific and technical activities",
    "O": "Administrative and support service activities",
    "P": "Public administration and defence; compulsory social security",
    "Q": "Education",
    "R": "Human health and social work activities",
    "S": "Arts, sports and recreation",
    "T": "Other service activities",
    "U": "Activities of households as employers; undifferentiated goods- and "
    "services-producing activities of households for own use",
    "V": "Activities of extraterritorial organisations and bodies",
    "01": "Crop and animal production, hunting and related service activities",
    "02": "Forestry and logging",
    "03": "Fishing and aquaculture",
    "05": "Mining of coal and lignite",
    "06": "Extraction of crude petroleum and natural gas",
    "07": "Mining of metal ores",
    "08": "Other mining and quarrying",
    "09": "Mining support service activities",
    "10": "Manufacture of food products",
    "11": "Manufacture of beverages",
    "12": "Manufacture of tobacco products",
    "13": "Manufacture of textiles",
    "14": "Manufacture of wearing apparel",
    "15": "Manufacture of leather and related products of other materials",
    "16": "Manufacture of wood and of products of wood and cork, except furniture; "
    "manufacture of articles of straw and plaiting materials",
    "17": "Manufacture of paper and paper products",
    "18": "Printing and reproduction of recorded media",
    "19": "Manufacture of coke and refined petroleum products",
    "20": "Manufacture of chemicals and chemical products",
    "21": "Manufacture of basic pharmaceutical products and pharmaceutical preparations",
    "22": "Manufacture of rubber and plastic products",
    "23": "Manufacture of other non-metallic mineral products",
    "24": "Manufacture of basic metals",
    "25": "Manufacture of fabricated metal products, except machinery and equipment",
    "26": "Manufacture of computer, electronic and optical products",
    "27": "Manufacture of electrical equipment",
    "28": "Manufacture of machinery and equipment n.e.c.",
    "29": "Manufacture of motor vehicles, trailers and semi-trailers",
    "30": "Manufacture of other transport equipment",
    "31": "Manufacture of furniture",
    "32": "Other manufacturing",
    "33": "Repair, maintenance and installation of machinery and equipment",
    "35": "Electricity, gas, steam and air conditioning supply",
    "36": "Water collection, treatment and supply",
    "37": "Sewerage",
    "38": "Waste collection, recovery and disposal activities",
    "39": "Remediation activities and other waste management service activities",
    "41": "Construction of residential and non-residential buildings",
    "42": "Civil engineering",
    "43": "Specialised construction activities",
    "46": "Wholesale trade",
    "47": "Retail trade",
    "49": "Land transport and transport via pipelines",
    "50": "Water transport",
    "51": "Air transport",
    "52": "Warehousing, storage and support activities for transportation",
    "53": "Postal and courier activities",
    "55": "Accommodation",
    "56": "Food and beverage service activities",
    "58": "Publishing activities",
    "59": "Motion picture, video and television programme production, sound recording "
    "and music publishing activities",
    "60": "Programming, broadcasting, news agency and other content distribution activities",
    "61": "Telecommunication",
    "62": "Computer programming, consultancy and related activities",
    "63": "Computing infrastructure, data processing, hosting and other information "
    "service activities",
    "64": "Financial service activities, except insurance and pension funding",
    "65": "Insurance, reinsurance and pension funding, except compulsory social security",
    "66": "Activities auxiliary to financial services and insurance activities",
    "68": "Real estate activities",
    "69": "Legal and accounting activities",
    "70": "Activities of head offices and management consultancy",
    "71": "Architectural and engineering activities; technical testing and analysis",
    "72": "Scientific research and development",
    "73": "Activities of advertising, market research and public relations",
    "74": "Other professional, scientific and technical activities",
    "75": "Veterinary activities",
    "77": "Rental and leasing activities",
    "78": "Employment activities",
    "79": "Travel agency, tour operator and other reservation service and related activities",
    "80": "Investigation and security activities",
    "81": "Services to buildings and landscape activities",
    "82": "Office administrative, office support and other business support activities",
    "84": "Public administration and defence; compulsory social security",
    "85": "Education",
    "86": "Human health activities",
    "87": "Residential care activities",
    "88": "Social work activities without accommodation",
    "90": "Arts creation and performing arts activities",
    "91": "Library, archive, museum and other cultural activities",
    "92": "Gambling and betting activities",
    "93": "Sports activities and amusement and recreation activities",
    "94": "Activities of membership organisations",
    "95": "Repair and maintenance of computers, personal and household goods, and motor "
    "vehicles and motorcycles",
    "96": "Personal service activities",
    "97": "Activities of households as employers of domestic personnel",
    "98": "Undifferentiated goods- and services-producing activities of private households "
    "for own use",
    "99": "Activities of extraterritorial organisations and bodies",
}


def _json(*parts: str) -> dict:
    with resources.files("ateco").joinpath("data", *parts).open("r", encoding="utf-8") as f:
        return json.load(f)


def _nodes(edition: str) -> dict[str, dict]:
    return {n["code"]: n for n in _json(edition, "nodes.json")["nodes"]}


def _sentence_case(title: str) -> str:
    title = " ".join(title.split())
    return title[:1] + title[1:].lower() if title == title.upper() else title


def _section(nodes: dict[str, dict], code: str) -> str:
    while nodes[code]["parent"]:
        code = nodes[code]["parent"]
    return code


def main() -> None:
    n2025, n2007, n2022 = _nodes("2025"), _nodes("2007"), _nodes("2022")
    with (HERE / "ateco2025.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["level", "code", "parent", "section", "label_it", "label_en"])
        for code, node in n2025.items():
            out.writerow(
                [
                    node["level"],
                    code,
                    node["parent"] or "",
                    _section(n2025, code),
                    _sentence_case(node["title"]),
                    LABEL_EN.get(code, ""),
                ]
            )
    rows = _json("correspondence", "2025_2022.json")["mappings"]
    targets: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        pair = (row["code_2025"], int(row["coverage_2025"] == "TOTALE"))
        targets.setdefault(row["code_2022"], []).append(pair)
    old = {**n2022, **n2007}
    with (HERE / "ateco2007_2025.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["code_2007", "code_2025", "whole"])
        for code in sorted(old, key=lambda c: (c.isalpha(), c)):
            if old[code]["level"] == "section":
                continue
            source = code
            while source not in targets:
                source = old[source]["parent"]
            for target, whole in sorted(set(targets[source])):
                out.writerow([code, target, whole])


if __name__ == "__main__":
    main()
