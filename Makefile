# SPDX-License-Identifier: AGPL-3.0-or-later
# stepupd build. `make` builds ./build/stepupd; `make check` installs what the
# tests need (Debian packages, npm lock file), builds and runs every test and
# ends with one line "N passed, N failed". `make demo` runs the demo.
#
# SANITIZE=address,undefined builds into build-san/ with the sanitizers.
# WERROR=1 (CI) makes warnings errors; shipped builds do not use -Werror.

SANITIZE ?=
WERROR ?=
BUILD ?= build$(if $(SANITIZE),-san)
CC ?= cc

PKGS = libmicrohttpd cjose jansson libcurl sqlite3 openssl lasso gobject-2.0 glib-2.0 libxml-2.0 libargon2
WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wwrite-strings \
       -Wpointer-arith -Wformat=2 -Wimplicit-fallthrough -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
	  $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -Iserver
LDFLAGS += -pie -Wl,-z,relro,-z,now
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
ifneq ($(WERROR),)
CFLAGS += -Werror
endif

SRCS = $(wildcard server/*.c)
OBJS = $(SRCS:server/%.c=$(BUILD)/obj/%.o)
LIBOBJS = $(filter-out $(BUILD)/obj/main.o,$(OBJS))
HDRS = $(wildcard server/*.h)
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/replay_%)

.PHONY: all deps check check-unit check-integ demo clean lint fuzz valgrind bench
all: $(BUILD)/stepupd $(BUILD)/mock_op $(BUILD)/mock_saml

$(BUILD)/obj/%.o: server/%.c $(HDRS) | $(BUILD)/obj
	@echo '  CC     $<'
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/stepupd: $(OBJS)
	@echo '  LD     $@'
	@$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/mock_op: tests/mock/mock_op.c tests/mock/mock_common.h | $(BUILD)/obj
	@echo '  CCLD   $@'
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(BUILD)/mock_saml: tests/mock/mock_saml.c tests/mock/mock_common.h | $(BUILD)/obj
	@echo '  CCLD   $@'
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/t.h $(LIBOBJS) | $(BUILD)/tests
	@echo '  CCLD   $@'
	@$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LDLIBS)

# fuzz targets: built with a standalone driver that replays tests/fuzz/corpus/<name>/
$(BUILD)/tests/replay_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/standalone.c $(LIBOBJS) | $(BUILD)/tests
	@echo '  CCLD   $@'
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/standalone.c $(LIBOBJS) $(LDLIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

# Debian packages the build, the tests and the demo need; installed when missing.
DEB_BUILD = build-essential pkg-config libmicrohttpd-dev libcjose-dev libjansson-dev \
	    libcurl4-openssl-dev libsqlite3-dev libssl-dev liblasso3-dev libargon2-dev
DEB_TEST = curl sqlite3 python3 clang libclang-rt-14-dev openssl nginx-light wrk xmlsec1 \
	   simplesamlphp php8.2-cli php8.2-cgi php8.2-xml php8.2-mbstring chromium
# Node.js and npm (for the interop OP) come from Debian only when no node is on PATH
DEB_NODE = $(if $(shell command -v node 2>/dev/null),,nodejs)$(if $(shell command -v npm 2>/dev/null),, npm)
deps:
	@missing=$$(for p in $(DEB_BUILD) $(DEB_TEST) $(DEB_NODE); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	fi
	@for d in tests/interop tests/browser; do \
		if [ -f $$d/package-lock.json ] && [ ! -d $$d/node_modules ]; then \
			(cd $$d && npm ci --no-audit --no-fund --silent) || exit 1; fi; done

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/demo.sh

# `make bench`: the /check benchmark (bench/README.md); not part of check
bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/stepupd $(BUILD)/bench/bare
	@BUILD=$(BUILD) bash bench/run.sh

$(BUILD)/bench/bare: bench/bare.c | $(BUILD)/obj
	@mkdir -p $(BUILD)/bench
	@echo '  CCLD   $@'
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|atoi|strtok|gets|rand)\(' server/*.c || \
		{ echo "banned function used"; exit 1; }

fuzz:
	@for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -Iserver $$(pkg-config --cflags $(PKGS)) \
		-o $(BUILD)/$$n $$f $(filter-out server/main.c,$(SRCS)) $(LDLIBS) || exit 1; done

clean:
	rm -rf build build-san
