# The operator contract: see README.md and docs/design.md. Everything installs what it needs itself.
SHELL := /bin/bash
CONFIG ?= Release
DOTNET ?= dotnet
BIN = bin/$(CONFIG)/net10.0

.PHONY: help build test soak run dev-broker worker ctl bench tools clean

help:
	@echo "make run          the whole pipeline on the embedded Kafka (or KAFKA_BOOTSTRAP_SERVERS)"
	@echo "make test         every test (what .ci/run calls)"
	@echo "make dev-broker   the embedded Kafka alone; first stdout line is KAFKA_BOOTSTRAP_SERVERS=..."
	@echo "make worker LANE=messages|statuses   one more worker replica of a lane against the running broker"
	@echo "make ctl ARGS=..  streamctl: topics, lag, dlq list/show/replay"
	@echo "make bench [NAME ...]  the benchmarks, all or those named (prints a table, never fails on a number)"
	@echo "make soak         every fault scenario SOAK_RUNS times (20) + FUZZ_REQUESTS fuzzed webhooks (10000); not in make test"

build:
	$(DOTNET) build Streaming.sln -c $(CONFIG) --nologo -v q

test:
	@scripts/test.sh

run:
	@scripts/run.sh

# Build output goes to stderr so the first stdout line stays the contract's.
dev-broker:
	@$(DOTNET) build services/Streaming.DevBroker -c $(CONFIG) --nologo -v q -clp:NoSummary 1>&2
	@exec $(DOTNET) services/Streaming.DevBroker/$(BIN)/Streaming.DevBroker.dll

# Without KAFKA_BOOTSTRAP_SERVERS it talks to the broker of a running `make run`. Builds only when
# a source is newer than streamctl.dll, and quietly (scripts/ctl.sh).
ctl:
	@CONFIG=$(CONFIG) scripts/ctl.sh $(ARGS)

# One more replica of a lane's worker against KAFKA_BOOTSTRAP_SERVERS or a running `make run`'s broker.
worker:
	@CONFIG=$(CONFIG) LANE=$(LANE) scripts/worker.sh

# `make bench replica-scaling ordering`: the words after bench are benchmark names, not make targets.
ifeq (bench,$(firstword $(MAKECMDGOALS)))
BENCH_NAMES := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
ifneq ($(BENCH_NAMES),)
$(eval $(BENCH_NAMES):;@:)
endif
endif

bench:
	@scripts/bench.sh $(BENCH_NAMES) $(ARGS)

# Not part of `make test`: SOAK_RUNS (20), FUZZ_REQUESTS (10000), SOAK_MAX_MINUTES (240), SOAK_BLOCK (5).
soak:
	@scripts/soak.sh

tools:
	@scripts/install-tools.sh

clean:
	$(DOTNET) clean Streaming.sln --nologo -v q
	rm -rf artifacts
