# SPDX-License-Identifier: MIT
#
# miglab build.  Plain GNU make; one static library (ref/ + sim/) that the
# `miglab` binary, the benchmarks and every Check suite link against.
#
#   make            build build/miglab (installs missing Debian packages
#                   through ci/deps first)
#   make check      unit suites, the same suites under Valgrind memcheck,
#                   integration tests; ends with "N passed, N failed"
#   make asan       unit suites and integration tests built with ASan+UBSan
#   make bench      performance figures (not a test: prints numbers)
#   make faults     the full fault-injection matrix (docs/faults.md)
#   make demo       run the built-in default scenario on the testbed and
#                   report (root + netns; else the prediction, and why)
#   make fuzz       libFuzzer on every parser of hostile input, then a
#                   table (docs/fuzzing.md; 23-31 min)
#   make soak       1,000 live migrations between two host daemons, then
#                   8 at once (tests/soak/soak.sh; SOAK_MIGRATIONS=1000)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Local overrides go in an untracked config.mak.

-include config.mak

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
BUILD   ?= build
CC      ?= cc

WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla -Werror
OPT     ?= -O2 -g
PKGS     = json-c inih libxxhash libsodium libpcap
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) \
             $(WARN) -Iref -Isim -Itools -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
             $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
TEST_LIBS = $(shell pkg-config --libs check 2>/dev/null)

# The Xen backend (ref/guest_xen.c, `miglab xen`) is built when libxenlight
# is found (Debian libxen-dev); `make HAVE_XEN=` builds the compiled-out
# stubs instead.  A stamp rebuilds the two files when the choice changes.
.DEFAULT_GOAL := all
XEN_PKGS  = xenlight xentoollog xencontrol
HAVE_XEN ?= $(shell pkg-config --exists $(XEN_PKGS) 2>/dev/null && echo 1)
ifeq ($(HAVE_XEN),1)
ALL_CFLAGS += -DMIGLAB_HAVE_XEN $(shell pkg-config --cflags $(XEN_PKGS))
LIBS       += $(shell pkg-config --libs $(XEN_PKGS))
endif
XEN_STAMP = $(BUILD)/.have-xen
.PHONY: FORCE
$(XEN_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(HAVE_XEN)' | cmp -s - $@ || echo '$(HAVE_XEN)' > $@
$(BUILD)/ref/guest_xen.o $(BUILD)/tools/cmd_xen.o: $(XEN_STAMP)
# Xen's public headers need GNU C (anonymous unions, __attribute__).
$(BUILD)/ref/guest_xen.o: ALL_CFLAGS += -std=gnu11

LIB_SRC    = $(wildcard ref/*.c sim/*.c)
MIGLAB_SRC = $(filter-out tools/bench.c,$(wildcard tools/*.c))
TEST_SRC   = $(wildcard tests/unit/check_*.c)

LIB     = $(BUILD)/libmiglab.a
MIGLAB  = $(BUILD)/miglab
BENCH   = $(BUILD)/miglab-bench
TESTS   = $(TEST_SRC:%.c=$(BUILD)/%)
DEPS_OK = $(BUILD)/.deps-ok

.PHONY: all check check-unit check-valgrind check-integration asan bench \
        demo install clean deps fuzz soak
SHELL = /bin/bash
.SUFFIXES:
.SECONDARY:

all: $(MIGLAB)

# ci/deps installs (root) or names (otherwise) the missing Debian packages.
$(DEPS_OK): ci/deps
	@mkdir -p $(@D)
	@bash ci/deps
	@touch $@

deps:
	@bash ci/deps

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_SRC:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(MIGLAB): $(MIGLAB_SRC:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BENCH): $(BUILD)/tools/bench.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

# check_pcap tests the capture decoder, which lives in tools/.
PCAP_OBJ = $(BUILD)/tools/pcap_flow.o $(BUILD)/tools/pcap_timeline.o
$(BUILD)/tests/unit/check_pcap: $(BUILD)/tests/unit/check_pcap.o \
                                $(PCAP_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

# check_report tests the runner's comparisons and the report renderers.
REPORT_OBJ = $(BUILD)/tools/report.o $(BUILD)/tools/runner_json.o
$(BUILD)/tests/unit/check_report: $(BUILD)/tests/unit/check_report.o $(REPORT_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

# check_calibrate tests the derivation of a host profile's costs.
$(BUILD)/tests/unit/check_calibrate: $(BUILD)/tests/unit/check_calibrate.o \
                                     $(BUILD)/tools/calibrate_derive.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

# Tests find their data and the binary through these.
TEST_ENV = MIGLAB_SRCDIR=$(CURDIR) MIGLAB_BIN=$(CURDIR)/$(MIGLAB)

check: $(MIGLAB) $(TESTS)
	@TESTS="$(TESTS)" $(TEST_ENV) bash tests/run-all.sh all

check-unit: $(MIGLAB) $(TESTS)
	@TESTS="$(TESTS)" $(TEST_ENV) bash tests/run-all.sh unit

check-valgrind: $(MIGLAB) $(TESTS)
	@TESTS="$(TESTS)" $(TEST_ENV) bash tests/run-all.sh valgrind

# The full fault matrix (docs/faults.md); make check runs a reduced one.
.PHONY: faults
faults: $(MIGLAB)
	@$(TEST_ENV) bash tests/faults/faults.sh --full

check-integration: $(MIGLAB)
	@TESTS="" $(TEST_ENV) bash tests/run-all.sh integration

# Sanitizer build in its own tree, so it never mixes with the normal objects.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	    SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    asan-run

.PHONY: asan-run
asan-run: $(MIGLAB) $(TESTS)
	@TESTS="$(TESTS)" $(TEST_ENV) MIGLAB_SANITIZER=1 ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 bash tests/run-all.sh sanitizer

bench: $(BENCH)
	@$(BENCH)

# libFuzzer targets (tests/fuzz/fuzz_NAME.c, docs/fuzzing.md) against the
# library built with clang, ASan and UBSan in $(BUILD)/fuzz.  Each target
# runs for FUZZ_SECONDS_NAME seconds (the stream decoder: until it has made
# FUZZ_RUNS_stream executions, FUZZ_SECONDS_stream at most), starting from
# the committed seeds in tests/fuzz/corpus/NAME/ (read only); new inputs go
# to $(BUILD)/fuzz/corpus/NAME, crashes to $(BUILD)/fuzz/crashes/NAME.
# Then one table; fails if any target crashed or fell short of its runs.
# Defaults: 23-31 min wall on this 2-core machine (the stream decoder
# makes 10-20k exec/s under ASan+UBSan, so 10 M runs take 8-17 min; seven
# targets x 120 s).  FUZZ_TARGETS="stream host" runs a subset.
FUZZ_NAMES   = stream scenario host receive report workload pcap plan
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_RUNS_stream     ?= 10000000
FUZZ_SECONDS_stream  ?= 2400
FUZZ_SECONDS_scenario ?= 120
FUZZ_SECONDS_host    ?= 120
FUZZ_SECONDS_receive ?= 120
FUZZ_SECONDS_report  ?= 120
FUZZ_SECONDS_workload ?= 120
FUZZ_SECONDS_pcap    ?= 120
FUZZ_SECONDS_plan    ?= 120
FUZZ_TOOL_OBJ = $(PCAP_OBJ) $(REPORT_OBJ)

fuzz:
	@bash ci/deps fuzz
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=clang OPT="-O1 -g" \
	    SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
	    $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@$(foreach t,$(FUZZ_TARGETS),FUZZ_RUNS_$(t)=$(FUZZ_RUNS_$(t)) \
	    FUZZ_SECONDS_$(t)=$(FUZZ_SECONDS_$(t))) \
	    bash tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_TARGETS)

# (inside the sub-make above, BUILD is $(BUILD)/fuzz)
$(BUILD)/tests/fuzz/%.o: ALL_CFLAGS += -D_GNU_SOURCE
$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_TOOL_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# Long-running daemon checks, not part of `make check` (tests/soak/soak.sh):
# SOAK_MIGRATIONS back-and-forth live migrations with RSS/fd tracking, then
# 8 concurrent ones.  ~10 min with the default on this machine.
SOAK_MIGRATIONS ?= 1000
soak: $(MIGLAB)
	@$(TEST_ENV) SOAK_MIGRATIONS=$(SOAK_MIGRATIONS) bash tests/soak/soak.sh

demo: $(MIGLAB)
	@bash tools/demo.sh $(MIGLAB)

install: $(MIGLAB)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(MIGLAB) $(DESTDIR)$(BINDIR)/miglab

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Real Xen migrations in nested Xen (Xen 4.17 + dom0 under QEMU TCG) checked
# against predictions; root; report in build/nested-xen/.  Exit 77 when the
# machine cannot run it.  See ci/nested-xen/README.md.
.PHONY: nested-xen-check
nested-xen-check: $(MIGLAB)
	@bash ci/nested-xen/run.sh
