# arbiter: make builds ./arbiter; make test, make run, make bench, make fuzz.
# Every target that needs a Debian package installs what is missing first.

LIBS_PKG  = yaml-0.1 yajl libcrypto jansson libsodium sqlite3 liboath libqrencode ncursesw libmicrohttpd libcurl
CC       ?= cc
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CSTD      = -std=c11 -D_GNU_SOURCE
# -O3: 3.5% fewer instructions than -O2 for eval of the bench set (the
# parsing and digest loops unrolled and inlined), 3-4% less time for eval
# and submit (make bench); the binary 5% larger.
OPT       = -O3 -g
BUILD    ?= build/release
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

DEB_PACKAGES = gcc make pkg-config libyaml-dev libyajl-dev libssl-dev libjansson-dev libsodium-dev libsqlite3-dev sqlite3 \
	libncurses-dev liboath-dev libqrencode-dev libcmocka-dev tmux oathtool minisign valgrind \
	libmicrohttpd-dev libcurl4-gnutls-dev curl util-linux openssl strace procps
FUZZ_PACKAGES = clang libclang-rt-14-dev
BENCH_PACKAGES = hyperfine nodejs wrk time

ENGINE_SRC = $(sort $(wildcard engine/*.c))
DATA_SRC   = $(sort $(wildcard data/*.c))
TUI_SRC    = $(sort $(wildcard tui/*.c tui/cli/*.c tui/console/*.c tui/serve/*.c))
UNIT_SRC   = $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   = $(sort $(wildcard tests/fuzz/fuzz_*.c))

ENGINE_OBJ = $(ENGINE_SRC:%.c=$(BUILD)/%.o)
DATA_OBJ   = $(DATA_SRC:%.c=$(BUILD)/%.o)
EXAMPLES   = $(sort $(wildcard docs/examples/policies/*.yaml))
TUI_OBJ    = $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
REPLAY_BIN = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/replay_%)
HELPER_SRC = $(sort $(wildcard tests/helpers/*.c))

PKG_CFLAGS = $(shell pkg-config --cflags $(LIBS_PKG) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(LIBS_PKG) 2>/dev/null)
# Only the test build (build/asan, however make is called for it) lets
# ARBITER_TEST_NOW set the clock (engine/clock.c) and ARBITER_TEST_CLIENT_CONF
# stand in for /etc/arbiter/client.conf (data/client_conf.c); no other build
# has the code.
TEST_DEFS  = $(if $(filter build/asan,$(BUILD)),-DARBITER_TEST_CLOCK -DARBITER_TEST_CLIENT)
ALL_CFLAGS = $(CSTD) $(WARN) $(OPT) -pthread -I. $(PKG_CFLAGS) $(TEST_DEFS) $(EXTRA_CFLAGS) -MMD -MP
ALL_LDFLAGS = -pthread $(EXTRA_CFLAGS)

.PHONY: all deps test run bench fuzz clean check-engine-layer
all: arbiter

arbiter: $(BUILD)/arbiter
	cp $< $@

# arbiter links the libraries Debian ships as archives statically: the dynamic
# loader's work for seven shared libraries was a quarter of a one-document
# submit (about 1 ms of 5). A security update of a static library needs
# arbiter rebuilt. Debian names yajl's archive libyajl_s.a. libcurl,
# libmicrohttpd and libqrencode (which has no archive) are not linked at
# all: with the libraries they bring (GnuTLS, Kerberos, LDAP...) the first
# two cost every process about 8 ms at start, so the client loads libcurl
# when it first talks to a server (data/client_curl.h), serve loads
# libmicrohttpd when it starts (tui/serve/mhd.h), and reviewer add loads
# libqrencode when it draws a QR code (tui/cli/qr.c).
LOADED_PKG   = libmicrohttpd libcurl libqrencode
ARBITER_LIBS = -Wl,-Bstatic $(shell pkg-config --libs $(filter-out $(LOADED_PKG) yajl,$(LIBS_PKG)) 2>/dev/null) -l:libyajl_s.a \
	-Wl,-Bdynamic -lm

$(BUILD)/arbiter: $(ENGINE_OBJ) $(DATA_OBJ) $(TUI_OBJ) $(BUILD)/gen/example_policies.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ARBITER_LIBS)

# The example policy set, built into the binary for arbiter init.
$(BUILD)/gen/example_policies.c: $(EXAMPLES) tui/embed.sh
	@mkdir -p $(dir $@)
	sh tui/embed.sh $(EXAMPLES) > $@

$(BUILD)/gen/example_policies.o: $(BUILD)/gen/example_policies.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Each unit test links the shared fixture and helpers of tests/unit/support.c.
# Only sources and objects go to the compiler: -MMD lists headers such as
# support.h as prerequisites, and they must not be compiled.
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/support.c $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) $(shell pkg-config --libs cmocka)

# The console's list widget alone, curses drawing to /dev/null; the test
# stands in for console.c's message line and prompt.
$(BUILD)/tests/test_listview: tests/unit/test_listview.c $(BUILD)/tui/console/listview.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) $(shell pkg-config --libs cmocka)

# The tests of data/ (test_store_*.c) link data/'s objects too and share the
# temporary store of tests/unit/store_support.c; the more specific pattern
# wins over test_%. WRAP_NAME: linker options of test_store_NAME alone (the
# identities' test counts the constant-time comparisons of tokens through a
# wrapper of sodium_memcmp).
WRAP_identities = -Wl,--wrap=sodium_memcmp
$(BUILD)/tests/test_store_%: tests/unit/test_store_%.c tests/unit/support.c \
		tests/unit/store_support.c $(ENGINE_OBJ) $(DATA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(WRAP_$*) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm $(shell pkg-config --libs cmocka)

# The client's test links data/'s objects and runs a server on a thread.
$(BUILD)/tests/test_client: tests/unit/test_client.c $(ENGINE_OBJ) $(DATA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm $(shell pkg-config --libs cmocka)

# Programs the command-line tests run beside arbiter (a scripted server; the
# hostile and careless clients of the server's robustness tests, peer.c).
$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

# Fuzz targets may reach parsers in data/ (the key files, checkpoints).
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(ENGINE_OBJ) $(DATA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm

# fuzz_http runs the server itself: it links tui/serve/, what the server
# takes from tui/ (arguments, finding the store, the terminal writer) and
# the built-in example policies for the store it makes.
SERVE_OBJ = $(filter $(BUILD)/tui/serve/%.o,$(TUI_OBJ)) \
	$(patsubst %.c,$(BUILD)/%.o,$(wildcard tui/*.c)) $(BUILD)/gen/example_policies.o
$(BUILD)/tests/replay_http: tests/fuzz/fuzz_http.c tests/fuzz/replay.c $(ENGINE_OBJ) $(DATA_OBJ) \
		$(SERVE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm

deps:
	@missing=""; for p in $(DEB_PACKAGES) $(EXTRA_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The test build: ASan and UBSan on, everything under build/asan.
test: deps
	@$(MAKE) --no-print-directory BUILD=build/asan EXTRA_CFLAGS="$(SANFLAGS)" OPT="-O1 -g" \
		build/asan/arbiter $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%) \
		$(FUZZ_SRC:tests/fuzz/fuzz_%.c=build/asan/tests/replay_%) \
		$(HELPER_SRC:tests/helpers/%.c=build/asan/tests/helpers/%)
	@$(MAKE) --no-print-directory build/release/arbiter build/release/bench_eval
	@bash tests/run.sh build/asan

run: deps arbiter
	@sh docs/demo.sh

bench: deps
	@$(MAKE) --no-print-directory EXTRA_PACKAGES="$(BENCH_PACKAGES)" deps
	@$(MAKE) --no-print-directory arbiter $(BUILD)/bench_eval $(BUILD)/bench_store \
		$(BUILD)/bench_console $(BUILD)/bench_serve
	@sh bench/run.sh $(BUILD)

$(BUILD)/bench_eval: bench/bench_eval.c $(ENGINE_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)

$(BUILD)/bench_console: bench/bench_console.c
	$(CC) $(ALL_CFLAGS) -o $@ $< -lutil

# The server's load generator: libcurl's multi interface on the Unix socket.
$(BUILD)/bench_serve: bench/bench_serve.c
	$(CC) $(ALL_CFLAGS) -o $@ $< $(shell pkg-config --libs libcurl)

$(BUILD)/bench_store: bench/bench_store.c $(ENGINE_OBJ) $(DATA_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)

# Coverage-guided fuzzing with libFuzzer (clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	@$(MAKE) --no-print-directory EXTRA_PACKAGES="$(FUZZ_PACKAGES)" deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g" \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
		$(FUZZ_SRC:tests/fuzz/fuzz_%.c=build/fuzz/fuzz_%)
	@for f in $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%); do \
		mkdir -p build/fuzz/corpus-$$f; \
		echo "fuzzing $$f for $(FUZZ_SECONDS)s"; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=5 \
			-rss_limit_mb=2048 -artifact_prefix=build/fuzz/$$f- \
			build/fuzz/corpus-$$f tests/fuzz/corpus/$$f > build/fuzz/$$f.log 2>&1; \
		rc=$$?; tail -3 build/fuzz/$$f.log; \
		if [ $$rc -ne 0 ]; then echo "fuzz $$f failed: see build/fuzz/$$f.log"; exit 1; fi; \
	done

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(ENGINE_SRC:%.c=build/fuzz/%.o) $(DATA_SRC:%.c=build/fuzz/%.o)
	clang $(CSTD) $(WARN) -O1 -g $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm

build/fuzz/fuzz_http: tests/fuzz/fuzz_http.c $(ENGINE_SRC:%.c=build/fuzz/%.o) \
		$(DATA_SRC:%.c=build/fuzz/%.o) $(SERVE_OBJ:$(BUILD)/%=build/fuzz/%)
	clang $(CSTD) $(WARN) -O1 -g $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm

clean:
	rm -rf build arbiter

-include $(shell find build -name '*.d' 2>/dev/null)
