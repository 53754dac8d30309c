# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv when absent and installs torch==2.13.0 (CPU) before the package,
# so pip never pulls a multi-GB CUDA build of torch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sigseg-installed

.PHONY: setup demo test pretrained compare bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test,onnx,baselines]'
	touch $(STAMP)

# Every shipped model's ONNX export is committed beside its weights
# (tests/inference/test_shipped_onnx.py checks it), so setup only installs.
setup: $(STAMP)

LUDB ?= ../shared/data/ludb
DEMO := demo-output

# The main job: the model zoo, an ECG delineated by the shipped model (an LUDB test record when
# ../shared is present, else a synthetic recording) with its plot, the quick comparison, and
# the delineation's report, with the command that opens it in the viewer.
demo: setup
	$(BIN)/sigseg models
	mkdir -p $(DEMO)
	if [ -f $(LUDB)/10.hea ]; then \
		$(BIN)/sigseg delineate $(LUDB)/10 --combine-leads --out $(DEMO)/delineation; \
	else \
		$(BIN)/sigseg data synth $(DEMO)/synthetic --hours 0.01 --leads 2 && \
		$(BIN)/sigseg delineate $(DEMO)/synthetic --combine-leads --out $(DEMO)/delineation; \
	fi
	@echo "plot: $$(ls $(DEMO)/delineation/*.png)"
	SIGSEG_DATA=$(LUDB) $(BIN)/sigseg compare --quick --out $(DEMO)/compare
	$(BIN)/sigseg report $(DEMO)/delineation --out $(DEMO)/report --overwrite
	@if [ -f $(LUDB)/10.hea ]; then view="$(LUDB)/10 --reference $(LUDB)/10.ii"; \
	else view="$(DEMO)/synthetic"; fi; \
	echo "report: $(DEMO)/report/index.html"; \
	echo "viewer: $(BIN)/sigseg view $$view --predictions $(DEMO)/delineation  (serves http://127.0.0.1:5006/)"

# The viewer's browser tests (tests/view) drive Debian's Chromium through Playwright (never a
# downloaded browser); CI runs as root on a clean machine, so it is installed when absent.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: setup $(CHROMIUM)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -q

# Rebuild the shipped pretrained models from scratch (~10 + ~40 + ~10 + ~20 + ~20 min on 2
# cores): the ECG models on the LUDB train split (ecg-hybrid-fast-ludb at 125 Hz, the 250-Hz
# ecg-hybrid-ludb, and the default ecg-hybrid-fast-ludb-noise, the first's recipe with real
# NSTDB noise from ../shared/data/nstdb and its atrial fibrillation and flutter records drawn
# 4x), hapt-hybrid (human activity, HAPT) and gazecom-hybrid
# (eye movements, GazeCom), each with its field comparison's recipe (benchmarks/fields/), then
# their ONNX exports (the default backend runs them).
pretrained: $(STAMP)
	for name in ecg-hybrid-fast-ludb ecg-hybrid-ludb ecg-hybrid-fast-ludb-noise hapt-hybrid gazecom-hybrid; do \
	  config=configs/$$name.yaml; \
	  SIGSEG_DATA=$${SIGSEG_DATA:-../shared/data/ludb} $(BIN)/sigseg train --config $$config --out runs/$$name && \
	  SIGSEG_DATA=$${SIGSEG_DATA:-../shared/data/ludb} $(BIN)/python -m sigseg.pretrained.build runs/$$name --name $$name --config $$config || exit 1; \
	done
	$(BIN)/python -m sigseg.pretrained.onnx  # their ONNX exports, shipped beside the weights

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info $(DEMO)
