"""Execute notebooks in place (their own folder as working directory) so outputs are committed for nbval.

    python scripts/execute_notebooks.py book/theory/clt.ipynb ...
"""
import sys
import time
from pathlib import Path

import nbformat
import nbformat.validator
from nbclient import NotebookClient

for name in sys.argv[1:]:
    path = Path(name)
    nb = nbformat.read(path, as_version=4)
    _, nb = nbformat.validator.normalize(nb)  # give every cell an id
    t = time.perf_counter()
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    print(f"{path}: {time.perf_counter() - t:.1f} s")
