# ccrup — cluster rolling-upgrade orchestrator.  Plain make, pkg-config, no autotools.
#
#   make            build bin/ccrup and bin/ccrsim
#   make check      install missing Debian packages, build, run every test
#   make demo       install, build, start ccrsim, run the SP1 upgrade against it
#                   (PLAYBOOK=ccr-rollup|ccr-sp2|ccr-sp3: another Exchange playbook)
#                   (TRANSPORT=winrm: the same over WinRM)
#   make demo-patroni  the rolling upgrade of a real Patroni cluster, users writing throughout
#   make SANITIZE=address,undefined check
#   make install PREFIX=/usr/local DESTDIR=...
#   make lint       banned calls and clang-format drift
#   make bench      benchmarks (never part of check)
#   make crash-matrix-etcd   the whole crash matrix on the etcd state backend

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PKGS      = libssh yaml-0.1 libcurl jansson libxml-2.0 libssl
BUILD    ?= build

# Sources live one folder per module group (docs/hacking.md); headers are
# included by name, so every source folder is on the include path.
ORCH_DIRS := $(sort $(dir $(wildcard orchestrator/*/*.c)))
SIM_DIRS  := mock-nodes/ $(sort $(dir $(wildcard mock-nodes/*/*.c)))
SRC_DIRS  := common/ $(ORCH_DIRS) $(SIM_DIRS)

CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
              -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -g -O2 \
              $(addprefix -I,$(SRC_DIRS)) -DCCRUP_DATADIR=\"$(PREFIX)/share/ccrup\"
ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -O1
LDFLAGS     += -fsanitize=$(SANITIZE)
BUILD       := build-san
ifneq ($(filter install,$(MAKECMDGOALS)),)
$(error refusing to install a SANITIZE= build: run a plain `make install`)
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypto -lz -lpthread
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS  += $(CFLAGS_BASE) $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS)

ORCH_SRC  := $(wildcard common/*.c) $(filter-out orchestrator/cli/main.c,$(wildcard orchestrator/*/*.c))
SIM_SRC   := $(filter-out mock-nodes/server/sim_main.c,$(wildcard mock-nodes/*/*.c))
ORCH_OBJ  := $(ORCH_SRC:%.c=$(BUILD)/%.o)
SIM_OBJ   := $(SIM_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(wildcard tests/check_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/%)
# LD_PRELOAD shims for the crash matrices: plain -fPIC, never sanitized.
SHIM_SRC  := $(wildcard tests/shim/*.c)
SHIM_LIB  := $(SHIM_SRC:tests/shim/%.c=$(BUILD)/tests/%.so)

BINS = bin/ccrup
ifneq ($(wildcard mock-nodes/server/sim_main.c),)
BINS += bin/ccrsim
endif

.PHONY: all deps check unit integration demo demo-patroni install lint format bench fuzz crash-matrix clean \
	crash-matrix-etcd
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libccrup.a: $(ORCH_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libccrsim.a: $(SIM_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# bin/ holds the flavour built last (plain or SANITIZE=...), named in bin/.flavour.
# The file is rewritten, here at parse time, only when the flavour changes (git's
# GIT-CFLAGS), so switching flavour relinks: a plain `make` or `make install`
# after a sanitizer build never leaves or ships a sanitizer binary.
FLAVOUR := $(if $(SANITIZE),sanitize=$(SANITIZE),plain)
ifneq ($(shell cat bin/.flavour 2>/dev/null),$(FLAVOUR))
$(shell mkdir -p bin && echo '$(FLAVOUR)' >bin/.flavour)
endif

bin/ccrup: $(BUILD)/orchestrator/cli/main.o $(BUILD)/libccrup.a bin/.flavour
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter-out bin/.flavour,$^) $(LDLIBS)

bin/ccrsim: $(BUILD)/mock-nodes/server/sim_main.o $(BUILD)/libccrsim.a $(BUILD)/libccrup.a bin/.flavour
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter-out bin/.flavour,$^) $(LDLIBS)

$(BUILD)/tests/check_%: tests/check_%.c $(BUILD)/libccrsim.a $(BUILD)/libccrup.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests -o $@ $^ $(CHECK_LIBS) $(LDLIBS) $(LDFLAGS)

$(BUILD)/tests/%: tests/helpers/%.c $(BUILD)/libccrsim.a $(BUILD)/libccrup.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $^ $(LDLIBS) $(LDFLAGS)

$(BUILD)/tests/%.so: tests/shim/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $< -ldl

deps:
	@sh .ci/deps.sh

# Unit suites (Check, fork mode), then integration scripts that drive the real
# binaries.  Every integration script is self-contained and prints one summary line.
check: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(HELPER_BIN) $(SHIM_LIB)
	@BUILD=$(BUILD) sh tests/run-tests.sh $(TEST_BIN)

unit: all $(TEST_BIN)
	@BUILD=$(BUILD) UNIT_ONLY=1 sh tests/run-tests.sh $(TEST_BIN)

demo: deps
	@$(MAKE) --no-print-directory all
	@TRANSPORT=$(TRANSPORT) PLAYBOOK=$(PLAYBOOK) sh mock-nodes/demo.sh

# A real Patroni/PostgreSQL/etcd cluster on loopback, upgraded with users writing throughout.
demo-patroni: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo-patroni.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ccrup/playbooks \
	           $(DESTDIR)$(PREFIX)/share/ccrup/scenarios \
	           $(DESTDIR)$(PREFIX)/share/doc/ccrup $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 playbooks/*.yml $(DESTDIR)$(PREFIX)/share/ccrup/playbooks/
	install -m 0644 mock-nodes/scenarios/*.yml $(DESTDIR)$(PREFIX)/share/ccrup/scenarios/
	install -m 0644 docs/ccrsim.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/ccrup/
	if [ -f docs/ccrup.1 ]; then install -m 0644 docs/ccrup.1 $(DESTDIR)$(PREFIX)/share/man/man1/; fi
	if [ -f docs/ccrup.bash-completion ]; then install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions && \
	  install -m 0644 docs/ccrup.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ccrup; fi

lint:
	@sh .ci/lint.sh

# The whole crash matrix with the journal and lock in etcd (CI runs a subset).
crash-matrix-etcd: all
	@CRASH_MATRIX_EVERY=1 sh tests/integration/etcd_crash_matrix.sh

# libFuzzer targets (clang, ASan+UBSan) built into build-fuzz/, each run FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# Every journal record of an undisturbed run is a crash point (docs/reliability.md).
crash-matrix: all $(SHIM_LIB)
	@BUILD=$(BUILD) CRASH_ALL=1 sh tests/integration/crash_records.sh

format:
	clang-format -i common/*.[ch] orchestrator/*/*.[ch] mock-nodes/*.h mock-nodes/*/*.[ch] tests/*.[ch]

bench: deps all
	@sh bench/run.sh

clean:
	rm -rf build build-san build-fuzz bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
