# The two commands a newcomer types: `make demo` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)

# `make install` copies $(BUILD)/sluice to $(PREFIX)/bin and DuckDB's library beside it in
# $(PREFIX)/lib/sluice; `make uninstall` removes both.
PREFIX ?= $(HOME)/.local

.PHONY: all bootstrap configure build sluice demo test docs install uninstall bench fuzz format clean

all: build

bootstrap:
	@scripts/bootstrap

configure: bootstrap
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Only the program: what the demo and install need (no unit tests, no fuzz targets).
sluice: configure
	@cmake --build $(BUILD) -j $(JOBS) --target sluice

demo: sluice
	@$(BUILD)/sluice demo sluice-demo

install: sluice
	@cmake --install $(BUILD) --prefix "$(PREFIX)" >/dev/null
	@echo "installed $(PREFIX)/bin/sluice"
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; \
	  *) echo "$(PREFIX)/bin is not on your PATH; add it, e.g. export PATH=\"$(PREFIX)/bin:\$$PATH\"";; \
	esac

uninstall:
	@rm -f "$(PREFIX)/bin/sluice" "$(PREFIX)/lib/sluice/libduckdb.so"
	@rmdir "$(PREFIX)/lib/sluice" 2>/dev/null || true
	@echo "removed $(PREFIX)/bin/sluice"

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Runs the shell sessions every doc shows and writes their output back into the doc
# (tests/docs/run_docs.py --update); `make test` runs them and fails where a doc drifted.
docs: sluice
	@for doc in docs/*.md README.md; do \
	  tests/docs/run_docs.py $(BUILD)/sluice $$doc --update; \
	  case $$? in 0|77) ;; *) exit 1;; esac; \
	done

bench: build
	@scripts/bootstrap --bench
	@bench/etl/run
	@bench/orchestrator/run
	@bench/quality/run
	@bench/load/run
	@bench/extract/run

# Open-ended fuzzing of every parser with libFuzzer (clang-14, Debian's libclang-rt-14-dev),
# FUZZ_SECONDS per target. A crash is written straight into the target's committed corpus
# (tests/fuzz/<target>/corpus/crash-*): fix it, commit the file, and `make test` replays it for
# good. Inputs found to widen coverage go to $(FUZZ_BUILD)/corpus-<target>, not to git.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_TARGETS = dqdl when cron project
fuzz:
	@scripts/bootstrap --fuzz
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_LIBFUZZER=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$t && \
	  $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	    -artifact_prefix=tests/fuzz/$$t/corpus/ $(FUZZ_BUILD)/corpus-$$t tests/fuzz/$$t/corpus \
	    || exit 1; \
	done

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	@rm -rf $(BUILD)
