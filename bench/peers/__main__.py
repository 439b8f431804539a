"""`python3 -m bench.peers` from the repository root."""

from bench.peers.cli import main

raise SystemExit(main())
