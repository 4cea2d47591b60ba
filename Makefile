# moni — top-level build. One Makefile, pkg-config for flags, no other build system.
#
# Layout (each folder's .c files are picked up by wildcard, so adding a module is
# adding a file):
#   core/ logparse/ faults/  -> build/libmoni.a   (no ncurses in it)
#   tui/                     -> build/libmonitui.a
#   cmd/ (minus main.c)      -> build/libmonicmd.a (the subcommands and their parser)
#   cmd/main.c               -> build/moni
#   workloads/train/         -> build/moni-train  (main.c is the entry point)
#   workloads/rlsim/         -> build/moni-rlsim  (main.c is the entry point)
#   tests/unit/test_*.c      -> build/tests/test_*  (cmocka, link everything above)
#   tests/unit/fixture-*.c   -> build/libtestfix.a (fixtures the unit tests share)
#   tests/fakes/*.c          -> build/tests/lib*.so (fake NVML, fake libcuda)
#   tests/fuzz/fuzz_*.c      -> build/fuzz/fuzz_*   (clang libFuzzer, `make fuzz`)
#   tests/sh/test_*.sh       -> run by tests/run.sh against the real binaries
#   tests/bench/bench_*.sh   -> run by `make bench`

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

PKGS      := ncursesw libcjson libpcre2-8
CORE_PKGS := libcjson libpcre2-8

# Debian packages `make deps` installs when missing: build, tests, bench.
DEB_BUILD := build-essential pkg-config libncurses-dev libcjson-dev libpcre2-dev libcmocka-dev
DEB_TEST  := tmux python3 python3-psutil python3-pandas python3-sklearn iproute2 procps curl mandoc \
             prometheus prometheus-node-exporter valgrind clang libclang-rt-14-dev util-linux chromium \
             slurmctld slurmd slurm-client munge
DEB_BENCH := stress-ng htop btop hyperfine
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST) $(DEB_BENCH)

HAVE_PKGS := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)
ifeq ($(HAVE_PKGS),yes)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
endif

# -Wformat-truncation is off: snprintf truncation into fixed path buffers is
# intended (checked where it matters), and gcc's guesses at -O2 are noise.
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 $(WARN) -D_GNU_SOURCE -I. $(PKG_CFLAGS) \
           -DMONI_PREFIX='"$(PREFIX)"' -MMD -MP
LDLIBS  := $(PKG_LIBS) -lpthread -lm -ldl

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

CORE_SRC  := $(wildcard core/*.c logparse/*.c faults/*.c)
TUI_SRC   := $(wildcard tui/*.c)
CMD_SRC   := $(filter-out cmd/main.c,$(wildcard cmd/*.c))
TRAIN_SRC := $(filter-out workloads/train/main.c,$(wildcard workloads/train/*.c))
RLSIM_SRC := $(filter-out workloads/rlsim/main.c,$(wildcard workloads/rlsim/*.c))
TEST_SRC  := $(wildcard tests/unit/test_*.c)
FAKE_SRC  := $(wildcard tests/fakes/*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBMONI  := $(BUILD)/libmoni.a
LIBTUI   := $(BUILD)/libmonitui.a
LIBCMD   := $(BUILD)/libmonicmd.a
LIBTRAIN := $(BUILD)/libtrain.a
LIBRLSIM := $(BUILD)/librlsim.a
BINS     := $(BUILD)/moni $(BUILD)/moni-train $(BUILD)/moni-rlsim
INJECT_LIB := $(BUILD)/libmoni-inject.so
TESTS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
FAKES    := $(patsubst tests/fakes/%.c,$(BUILD)/tests/lib%.so,$(FAKE_SRC))
FUZZERS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps run test unit asan bench fuzz install uninstall clean check-deps
all: $(BINS) $(INJECT_LIB)

# --- dependencies -----------------------------------------------------------------
deps:
	@missing=""; for p in $(DEB_ALL); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

check-deps:
	@pkg-config --exists $(PKGS) || { echo "moni: missing build dependencies; run 'make deps'" >&2; exit 2; }
	@tests/check-layers.sh

# --- libraries and binaries -------------------------------------------------------
$(BUILD)/obj/%.o: %.c | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBMONI): $(call obj,$(CORE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBTUI): $(call obj,$(TUI_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBCMD): $(call obj,$(CMD_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBTRAIN): $(call obj,$(TRAIN_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBRLSIM): $(call obj,$(RLSIM_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/moni: $(call obj,cmd/main.c) $(LIBCMD) $(LIBTUI) $(LIBMONI)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/moni-train: $(call obj,workloads/train/main.c) $(LIBTRAIN)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread -lm
$(BUILD)/moni-rlsim: $(call obj,workloads/rlsim/main.c) $(LIBRLSIM)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread -lm

# The preload library of the in-process faults (faults/inject/): its own rule, since
# faults/*.c does not reach the subfolder and it must not link libmoni.  Never
# sanitized (it is loaded into workloads that are not), no fortify wrappers (it
# defines open/read/write itself), only its own symbols exported.
INJECT_SRC := $(wildcard faults/inject/*.c)
$(INJECT_LIB): $(INJECT_SRC) faults/inject-int.h | check-deps
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -D_GNU_SOURCE -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 -I. -O2 -g \
	  -fPIC -shared -fvisibility=hidden -o $@ $(INJECT_SRC) -ldl

# --- tests ------------------------------------------------------------------------
LIBTESTFIX := $(BUILD)/libtestfix.a
$(LIBTESTFIX): $(call obj,$(wildcard tests/unit/fixture-*.c))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(LIBTESTFIX) $(LIBCMD) $(LIBTUI) $(LIBMONI) $(LIBTRAIN) $(LIBRLSIM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# Fake shared libraries (NVML, CUDA driver) so GPU paths run without a GPU.
$(BUILD)/tests/lib%.so: tests/fakes/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -O1 -g -fPIC -shared -o $@ $<

unit: $(BINS) $(INJECT_LIB) $(TESTS) $(FAKES)

test: deps
	$(MAKE) unit
	BUILD=$(BUILD) tests/run.sh

asan: deps
	$(MAKE) BUILD=build-asan SAN=1 unit
	BUILD=build-asan MONI_SANITIZED=1 tests/run.sh

$(BUILD)/fuzz/%: tests/fuzz/%.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
	  -DMONI_PREFIX='"$(PREFIX)"' -o $@ $< $(CORE_SRC) $(PKG_LIBS) -lpthread -lm -ldl

FUZZ_SECONDS ?= 60
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do \
	  echo "== $$f ($(FUZZ_SECONDS)s)"; mkdir -p $(BUILD)/fuzz/corpus-$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus-$$(basename $$f) tests/fuzz/seeds/$$(basename $$f) || exit 1; \
	done

bench: deps
	$(MAKE) all $(FAKES)
	BUILD=$(BUILD) tests/bench/run.sh

# --- install ----------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/moni/rules \
	  $(DESTDIR)$(PREFIX)/share/moni/themes $(DESTDIR)$(PREFIX)/share/moni/examples \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/lib/moni
	install -m 755 $(INJECT_LIB) $(DESTDIR)$(PREFIX)/lib/moni/
	for f in logparse/rules/*.json; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/moni/rules/; done; true
	for f in themes/*.json; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/moni/themes/; done; true
	for f in examples/*.json; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/moni/examples/; done; true
	install -d $(DESTDIR)$(PREFIX)/share/moni/examples/slurm
	install -m 644 examples/slurm/* $(DESTDIR)$(PREFIX)/share/moni/examples/slurm/
	for s in 1 5 7; do for f in man/*.$$s; do [ -e "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/man/man$$s/; done; done; true
	[ -e man/moni.bash-completion ] && install -m 644 man/moni.bash-completion \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/moni; true

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,moni moni-train moni-rlsim)
	rm -rf $(DESTDIR)$(PREFIX)/share/moni $(DESTDIR)$(PREFIX)/lib/moni
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/moni.1 $(DESTDIR)$(PREFIX)/share/man/man1/moni-*.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5/moni-*.5 \
	  $(DESTDIR)$(PREFIX)/share/man/man7/moni-*.7 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/moni

# `make run`: install what is missing, build, start the console on moni-train.
RUN_OUT ?= runs/$(shell date -u +%Y%m%dT%H%M%SZ)
run: deps
	$(MAKE) all
	$(BUILD)/moni --out $(RUN_OUT)

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
