# Two entry points (README): `make book` builds the HTML book, `make test` runs pytest + nbval.
# Both create .venv and install the project with its dev extra first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup book test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

setup: $(STAMP)

# The book may fetch CIFAR-10 through torchvision when no copy is found (SGN_ALLOW_DOWNLOAD=1).
book: setup
	SGN_ALLOW_DOWNLOAD=1 MPLBACKEND=Agg $(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Book built: $(CURDIR)/_build/html/index.html"

test: setup
	MPLBACKEND=Agg $(BIN)/python -m pytest tests book --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -q

bench: setup
	$(BIN)/python benchmarks/bench_stats.py

clean:
	rm -rf _build runs
