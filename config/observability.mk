# Elasticsearch + Kibana for the log tier (docs/OBSERVABILITY.md). Included by the Makefile.
# es-start needs ELASTIC_PASSWORD and KIBANA_PASSWORD in the environment; es-init/es-clean
# read LOG_ES_* (and the config file in ES_CONFIG, default config/example.yaml).
ES_COMPOSE := docker compose -f docker-compose.elasticsearch.yml
ES_CONFIG  ?= config/example.yaml

.PHONY: es-start es-stop es-init es-clean

es-start:
	$(ES_COMPOSE) up -d

es-stop:
	$(ES_COMPOSE) down

es-init: install
	$(VENV)/bin/bananas es-init -c $(ES_CONFIG)

es-clean: install
	$(VENV)/bin/bananas es-clean -c $(ES_CONFIG)
