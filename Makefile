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
#   make fuzz       libFuzzer on the stream and capture decoders
#                   (FUZZ_SECONDS=60 each)
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
        demo install clean deps fuzz
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

# The decoders under libFuzzer with ASan+UBSan, FUZZ_SECONDS each: the
# stream decoder, then the capture decoder (tools/pcap_*.c).  New inputs go
# to build/fuzz-corpus and build/fuzz-corpus-pcap (libFuzzer writes into
# its first directory); the seeds in tests/data/streams/ and
# tests/data/pcap/ are read only.
FUZZ_SECONDS ?= 60
FUZZ_CC = clang -std=c11 -D_DEFAULT_SOURCE -g -O1 \
          -fsanitize=fuzzer,address,undefined -Iref -Itools
FUZZ_SRC = tests/fuzz/fuzz_stream.c ref/buf.c $(wildcard ref/stream_*.c) \
           ref/mig_err.c
FUZZ_PCAP_SRC = tests/fuzz/fuzz_pcap.c tools/pcap_flow.c \
                tools/pcap_timeline.c ref/buf.c $(wildcard ref/stream_*.c) \
                ref/mig_err.c
FUZZ_FILTER = grep -E '^(\#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak|==.*ERROR|SUMMARY)'

fuzz:
	@bash ci/deps fuzz
	@mkdir -p $(BUILD)/fuzz-corpus $(BUILD)/fuzz-corpus-pcap
	$(FUZZ_CC) $(FUZZ_SRC) -o $(BUILD)/fuzz_stream
	$(FUZZ_CC) $(FUZZ_PCAP_SRC) -lpcap -o $(BUILD)/fuzz_pcap
	$(BUILD)/fuzz_stream -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(BUILD)/fuzz-corpus tests/data/streams/ 2>&1 | $(FUZZ_FILTER) ; \
	    test $${PIPESTATUS[0]} -eq 0
	$(BUILD)/fuzz_pcap -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(BUILD)/fuzz-corpus-pcap tests/data/pcap/ 2>&1 | $(FUZZ_FILTER) ; \
	    test $${PIPESTATUS[0]} -eq 0

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
