# The two commands: `make demo` (set up, run the embedded sample) and `make test`.
.PHONY: env demo test lint format clean

VENV := .venv

env:
	@bash scripts/bootstrap.sh

demo: env
	$(VENV)/bin/geodistrict run config/sample.yml
	$(VENV)/bin/geodistrict layers out/sample

test: env
	@bash scripts/test.sh

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
