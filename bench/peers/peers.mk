# Peer benchmark (included from the Makefile). Each peer is installed into its own environment
# under bench/.peers/<name> (pinned: bench/peers/requirements/*.txt, bench/peers/node/package-lock.json),
# reinstalled only when its pins change; then the scenarios run and the tables are printed.
#   make bench-peers                                   full run, every peer
#   make bench-peers PEERS_ARGS="--quick --only rq,huey"
# Needs python3 (stdlib only for the harness), redis-server on PATH, node >= 20 and npm.
PEERS_PYTHON ?= python3
PEERS_ARGS   ?=

.PHONY: bench-peers bench-peers-install

bench-peers-install:
	$(PEERS_PYTHON) -m bench.peers --install-only $(PEERS_ARGS)

bench-peers:
	$(PEERS_PYTHON) -m bench.peers --install $(PEERS_ARGS)
