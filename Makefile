# paperwatch: GNU Makefile.  `make run` (demo), `make check` (all tests).
PKG_CONFIG ?= pkg-config
PKGS      := libesmtp-1.0 openssl libcurl libxml-2.0 libconfig jansson sqlite3 libsystemd
TEST_PKGS := cmocka

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DATADIR    ?= $(PREFIX)/share/paperwatch
LIBEXECDIR ?= $(PREFIX)/libexec/paperwatch
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)

# Debian packages: build, tests, demo.
DEB_BUILD := build-essential pkg-config libssl-dev libesmtp-dev libcurl4-openssl-dev \
             libxml2-dev libconfig-dev libjansson-dev libsqlite3-dev libsystemd-dev
DEB_TEST  := libcmocka-dev python3-aiosmtpd openssl curl ca-certificates systemd
DEB_BENCH := libxml2-utils sfeed python3-feedparser rss2email postfix

VERSION := 0.1.0
WERROR  ?= 0
SAN     ?= 0
BUILD   ?= build

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wpointer-arith
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      ?= -O1 -g
else
SANFLAGS :=
OPT      ?= -O2 -g
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

override CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DPW_VERSION='"$(VERSION)"' -DPW_DATADIR='"$(DATADIR)"' \
	-DPW_SYSCONFDIR='"$(SYSCONFDIR)"' -DPW_LIBEXECDIR='"$(LIBEXECDIR)"' \
	-I. $(PKG_CFLAGS)
override CFLAGS   := -std=c11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP $(CFLAGS)
override LDFLAGS  := $(SANFLAGS) $(LDFLAGS)
LDLIBS += $(PKG_LIBS) -lm

LIB_SRC  := $(sort $(wildcard feeds/*.c) $(filter-out daemon/main.c,$(wildcard daemon/*.c)) \
            $(wildcard daemon/deliver/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/daemon/main.o
BIN      := $(BUILD)/paperwatch
# The idle half of `run`: libc only (daemon/supervise/supervise.c).
SUP      := $(BUILD)/paperwatch-supervise
LIB      := $(BUILD)/libpaperwatch.a

TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRC := $(wildcard tests/unit/helpers/*.c)
TEST_HELPER_OBJ := $(TEST_HELPER_SRC:%.c=$(BUILD)/obj/%.o)

DEMO_CONF ?= etc/demo.conf

.PHONY: all run deps check check-unit check-asan check-valgrind check-headers bench fuzz soak \
        install uninstall clean tests

all: $(BIN) $(SUP)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(LDLIBS)

$(SUP): $(BUILD)/obj/daemon/supervise/supervise.o
	$(CC) $(LDFLAGS) -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_HELPER_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJ) $(LIB) $(TEST_LIBS) $(LDLIBS)

tests: $(BIN) $(SUP) $(TEST_BIN)

# Install the Debian packages the build and the tests need (as root), or say
# which ones are missing.
deps:
	@missing=""; for p in $(DEB_BUILD) $(DEB_TEST); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing; \
	else \
	  echo "deps: missing Debian packages:$$missing"; \
	  echo "deps: run as root: apt-get install$$missing"; exit 1; \
	fi

# The quick start: packages, build, one cycle on the bundled demo config.
run: deps
	@$(MAKE) --no-print-directory all
	@sh etc/demo-run.sh $(BIN) $(DEMO_CONF)

check: tests
	@FIXTURES=$(CURDIR)/tests/fixtures PW_BIN=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) \
	  sh tests/run-tests.sh $(TEST_BIN)

check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 check

# The integration tests with paperwatch under valgrind's memcheck: any
# error or definitely lost block fails the run.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --trace-children=yes \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite
check-valgrind: tests
	@FIXTURES=$(CURDIR)/tests/fixtures PW_BIN=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) \
	  PW_WRAP="$(VALGRIND)" sh tests/run-tests.sh

# Soak: `run` for SOAK_SECONDS (default 600) against a changing feed and an
# SMTP server that goes down and up; memory and descriptors must stay flat.
soak: $(BIN) $(SUP)
	@PW_BIN=$(CURDIR)/$(BIN) FIXTURES=$(CURDIR)/tests/fixtures \
	  /usr/bin/python3 tests/soak/soak.py $${SOAK_SECONDS:-600} $${SOAK_ARGS:-}

check-headers:
	@fail=0; for h in feeds/*.h daemon/*.h daemon/deliver/*.h; do \
	  printf '#include "%s"\n' $$h | $(CC) $(CPPFLAGS) -std=c11 $(WARN) -fsyntax-only -x c - || { echo "not self-contained: $$h"; fail=1; }; \
	done; exit $$fail

# The peers it compares against are Debian packages ($(DEB_BENCH)); missing
# ones are skipped and named.  postfix is only used for its smtp-sink.
bench: $(BIN) $(SUP)
	@sh bench/run.sh $(BIN)

fuzz:
	@sh tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

install: $(BIN) $(SUP)
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/paperwatch
	install -D -m 0755 $(SUP) $(DESTDIR)$(LIBEXECDIR)/paperwatch-supervise
	for t in templates/*.mustache; do install -D -m 0644 $$t $(DESTDIR)$(DATADIR)/templates/$$(basename $$t); done
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/paperwatch|$(BINDIR)/paperwatch|; s|/etc/paperwatch/|$(SYSCONFDIR)/paperwatch/|g' \
	  systemd/paperwatch.service > $(DESTDIR)$(UNITDIR)/paperwatch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/paperwatch.service
	install -D -m 0644 etc/paperwatch.conf $(DESTDIR)$(SYSCONFDIR)/paperwatch/paperwatch.conf.example
	install -D -m 0644 man/paperwatch.8 $(DESTDIR)$(MANDIR)/man8/paperwatch.8
	install -D -m 0644 man/paperwatch.conf.5 $(DESTDIR)$(MANDIR)/man5/paperwatch.conf.5

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/paperwatch $(DESTDIR)$(UNITDIR)/paperwatch.service
	rm -rf $(DESTDIR)$(LIBEXECDIR)
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(SYSCONFDIR)/paperwatch/paperwatch.conf.example
	rm -f $(DESTDIR)$(MANDIR)/man8/paperwatch.8 $(DESTDIR)$(MANDIR)/man5/paperwatch.conf.5

clean:
	rm -rf build build-asan build-fuzz demo

-include tests/fuzz/fuzz.mk
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
