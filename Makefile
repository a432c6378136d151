# The two commands: `make demo` (set up, run the embedded sample) and `make test`.
.PHONY: env demo serve test check format clean

VENV := .venv

env:
	@bash scripts/bootstrap.sh

demo: env
	$(VENV)/bin/geodistrict run config/sample.yml
	$(VENV)/bin/geodistrict layers out/sample
	$(VENV)/bin/geodistrict publish out/sample --to out/pygeoapi
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
