# stackwiz -- developer and CI entry points. `make test` is what CI runs (.ci/run).
# Recipes use plain sh; each line is its own shell.

PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo
# Private Docker engine used by the tests (tests/setup/README.md).
STACKWIZ_TEST_ENGINE_DIR ?= /tmp/swd
export STACKWIZ_TEST_ENGINE_DIR
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
ENV_SH := $(STACKWIZ_TEST_ENGINE_DIR)/env.sh
# The developer's own XDG folders must not leak into the tests (the test harness sets
# its own HOME/XDG_* per test); cargo itself still needs HOME (~/.cargo, ~/.rustup).
TEST_ENV := env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME -u XDG_RUNTIME_DIR

.PHONY: all build install test test-engine engine-stop lint bench man fuzz fuzz-smoke

all: build

build:
	$(CARGO) build --locked --release

install: build
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$(TARGET_DIR)/release/stackwiz" "$(DESTDIR)$(PREFIX)/bin/stackwiz"
	if [ -f man/stackwiz.1 ]; then \
	  install -d "$(DESTDIR)$(PREFIX)/share/man/man1" && \
	  install -m 0644 man/stackwiz.1 "$(DESTDIR)$(PREFIX)/share/man/man1/stackwiz.1"; \
	fi

# Start (or reuse) the private engine, compose v2, test image and MCP venv.
test-engine:
	bash tests/setup/engine.sh

# Build everything outside the sandbox (cargo may need crates.io), then run the whole
# suite inside tests/setup/netns.sh: no network but loopback (+ the engine's bridges),
# with the private engine's env (DOCKER_HOST, DOCKER_CONFIG, STACKWIZ_TEST_*).
test: test-engine
	. "$(ENV_SH)" && $(CARGO) test --locked --no-run
	. "$(ENV_SH)" && $(TEST_ENV) bash tests/setup/netns.sh $(CARGO) test --locked --offline --no-fail-fast

engine-stop:
	bash tests/setup/engine-stop.sh

lint:
	rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

# Every figure beside its floor from the same run, written to BENCHMARKS.md
# (tests/bench/run.sh; the private engine's env.sh when present, else the machine's engine).
bench:
	if [ -f tests/bench.sh ]; then bash tests/bench.sh; \
	elif [ -f tests/bench/run.sh ]; then bash tests/bench/run.sh; \
	else $(CARGO) bench --locked; fi

man:
	mkdir -p man
	$(CARGO) run --locked --quiet -- man > man/stackwiz.1.tmp
	mv -f man/stackwiz.1.tmp man/stackwiz.1

# Fuzz every target in fuzz/fuzz_targets for FUZZ_SECONDS each, with its TARGET.dict of
# tokens when there is one (nightly toolchain and
# cargo-fuzz; fuzz/ is its own workspace, outside the main build). A crash stops the run
# and leaves its input in fuzz/artifacts/TARGET/: make it a unit test.
FUZZ_SECONDS ?= 300
FUZZ_TOOLCHAIN ?= nightly
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for f in fuzz_targets/*.rs; do \
	  t=$$(basename "$$f" .rs); echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  dict=; [ -f "fuzz_targets/$$t.dict" ] && dict="-dict=fuzz_targets/$$t.dict"; \
	  $(CARGO) +$(FUZZ_TOOLCHAIN) fuzz run "$$t" -- -max_total_time=$(FUZZ_SECONDS) $$dict || exit 1; \
	done

# CI's short run of every fuzz target (the long runs are `make fuzz`, by hand).
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=$(or $(FUZZ_SMOKE_SECONDS),20)
