# Rempart: `make demo` to try it, `make test` to check it.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo
DEMO_PERSONS ?= 20000

.PHONY: demo test check fmt bench fuzz soak clean audit lock asvs

# The locked versions first (what `make audit` checked), then the project itself; anything
# the lock lacks is still installed, and tests/asvs/test_v15_secure_coding.py names it.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(DEMO_DIR)
	test -f $(DEMO_DIR)/rempart.db || $(VENV)/bin/rempart seed --db sqlite:///$(DEMO_DIR)/rempart.db \
		--persons $(DEMO_PERSONS) --seed 1 --history-days 30 --credentials-out $(DEMO_DIR)/credentials.json
	$(VENV)/bin/rempart demo-logins --credentials $(DEMO_DIR)/credentials.json
	$(VENV)/bin/rempart serve --db sqlite:///$(DEMO_DIR)/rempart.db --host 127.0.0.1 --port 8000 --insecure-http

test: $(STAMP)
	bash scripts/test.sh

check: $(STAMP)
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) scripts/asvs_map.py --check
	bash scripts/audit.sh $(PY)

# Known vulnerabilities in the locked dependencies (PyPI's advisory data, through pip-audit).
audit: $(STAMP)
	bash scripts/audit.sh $(PY)

# Re-pin requirements.lock to what the virtual environment holds (after a dependency change).
lock: $(STAMP)
	bash scripts/lock.sh $(PY)

# docs/asvs.md from docs/asvs/decisions.toml and the tests' docstrings.
asvs:
	$(PY) scripts/asvs_map.py

fmt: $(STAMP)
	$(VENV)/bin/ruff format src tests
	$(VENV)/bin/ruff check --fix src tests

# Schemathesis over the whole spec as every role, with the coverage phase and the stateful
# sequences: at least FUZZ_MIN requests, none answered 5xx or outside the spec; fuzz.json reports.
FUZZ_MIN ?= 10000
fuzz: $(STAMP)
	REMPART_FUZZ_COVERAGE=1 REMPART_FUZZ_EXAMPLES=20 REMPART_FUZZ_SCENARIOS=10 REMPART_FUZZ_STEPS=10 \
	REMPART_FUZZ_MIN_REQUESTS=$(FUZZ_MIN) REMPART_FUZZ_REPORT=fuzz.json \
		$(PY) -m pytest -n 0 -q -p no:cacheprovider tests/functional/test_schemathesis.py

# Two replicas on a private PostgreSQL and Redis (started here, on free loopback ports; needs
# root for the journal's tmpfs) under load while Redis, PostgreSQL, a replica, the journal's
# disk and its writer fail in turn; about six minutes. SOAK_SCALE=0.25 for a quick run.
SOAK_SCALE ?= 1
soak: $(STAMP)
	$(PY) -m rempart_bench.soak --scale $(SOAK_SCALE) --json soak.json --doc docs/benchmarks.md

READ_PATH_POSTGRES ?= postgresql://postgres@127.0.0.1:5432/test

bench: $(STAMP)
	$(VENV)/bin/rempart bench --json bench.json --report docs/bench --doc docs/benchmarks.md
	$(PY) -m rempart_bench.read_path --profile --postgres $(READ_PATH_POSTGRES) \
		--json docs/bench/read_path.json --doc docs/benchmarks.md

clean:
	rm -rf $(VENV) $(DEMO_DIR) .mypy_cache .ruff_cache
