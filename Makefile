# The two commands: `make demo` (set up, run the embedded sample) and `make test`.
.PHONY: env demo serve test check format clean

VENV := .venv

env:
	@bash scripts/bootstrap.sh

# Both embedded samples: Helsinki (English) and the Piana Rotaliana (Italian), each with its
# deliverables (report HTML + PDF, spreadsheets, QGIS project), then one OGC API service.
demo: env
	$(VENV)/bin/geodistrict run config/sample.yml
	$(VENV)/bin/geodistrict layers out/sample
	$(VENV)/bin/geodistrict run config/piana_rotaliana.yml
	$(VENV)/bin/geodistrict publish out/sample out/piana_rotaliana --to out/pygeoapi
	$(VENV)/bin/geodistrict deliverables out/sample
	$(VENV)/bin/geodistrict deliverables out/piana_rotaliana
	@echo "Deliverables: out/sample/consegna/ and out/piana_rotaliana/consegna/ (report, tables),"
	@echo "  QGIS projects: out/sample/sample.qgz and out/piana_rotaliana/piana_rotaliana.qgz"
	@echo "Next: 'make serve' starts the OGC API service on http://127.0.0.1:5000"

serve: env
	$(VENV)/bin/geodistrict serve --config out/pygeoapi/pygeoapi.yml

test: env
	@bash scripts/test.sh

# The quick loop while editing: lint, types, and the tests that need neither the sample
# district nor servers (seconds). CI runs the whole `make test`.
check: env
	@bash scripts/test.sh -m "not slow and not integration" -q

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
