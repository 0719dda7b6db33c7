#!/bin/bash
# The layers only look down (ARCHITECTURE.md): engine/ includes neither
# SQLite nor curses nor anything of data/ or tui/; data/ includes no curses
# and nothing of tui/; the front ends in tui/ include only the engine's and
# data/'s public headers, their own, curses, qrencode and libc, and call no
# SQLite, libsodium or JSON library (jansson) function: data/ops.h's reads
# and JSON writers and engine/jsontext.c give them plain C and finished text.
# libcurl is data/client*.c's alone (the client side of the server), and
# libmicrohttpd tui/serve/'s alone (the server).
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
bad=$(grep -lE '#include *[<"](sqlite3|n?curses(w)?/?[a-z]*|\.\./(data|tui)/)' engine/*.c engine/*.h 2>/dev/null)
[ -z "$bad" ] && pass "engine/ includes no SQLite, curses, data/ or tui/" || fail "engine/ reaches up or out: $bad"
bad=$(grep -lE '#include *[<"](n?curses|\.\./tui/)' data/*.c data/*.h 2>/dev/null)
[ -z "$bad" ] && pass "data/ includes no curses and nothing of tui/" || fail "data/ reaches up: $bad"

# tui/: the public headers below it, its own headers, and these system ones
allowed_sys='assert|ctype|curses|errno|fcntl|inttypes|limits|locale|math|poll|pthread|pwd|qrencode|signal|stdarg|stdbool|stddef|stdint|stdio|stdlib|string|strings|sys/[a-z]+|termios|time|unistd|wchar|wctype'
# the server (tui/serve/) also speaks HTTP, reads its peers' addresses,
# gives a burst's memory back to the system (malloc_trim), runs
# audit.checkpoint_command (posix_spawn) and loads libmicrohttpd (dlfcn)
serve_sys='microhttpd|arpa/inet|netinet/in|netdb|grp|malloc|spawn|dlfcn'
bad=$(grep -nE '#include' tui/*.c tui/*.h tui/*/*.c tui/*/*.h 2>/dev/null |
	grep -vE "#include *<($allowed_sys)\.h>" |
	grep -vE "^tui/serve/[a-z_]+\.[ch]:[0-9]+:#include *<($serve_sys)\.h>" |
	grep -vE '#include *"(\.\./)+(engine/engine|data/store|data/ops|data/client)\.h"' |
	grep -vE '#include *"(\.\./)?[a-z_]+\.h"')
[ -z "$bad" ] && pass "tui/ includes only the engine and data public headers, its own, curses, qrencode and libc" ||
	fail "tui/ includes more than it may: $bad"
bad=$(grep -rnE '\b(sqlite3_[a-z_]+|sodium_[a-z_]+|crypto_[a-z_]+|randombytes_[a-z]+)\b|store_impl\.h' tui/ 2>/dev/null)
[ -z "$bad" ] && pass "tui/ calls no SQLite or libsodium function" || fail "tui/ calls below data/: $bad"
bad=$(grep -lE '#include *"(\.\./)*data/store_impl\.h"' engine/*.c tui/*/*.c tui/*.c 2>/dev/null)
[ -z "$bad" ] && pass "the store's inside (store_impl.h) stays in data/" || fail "store_impl.h used outside data/: $bad"
# libcurl only in the client, libmicrohttpd only in the server
# (data/client_curl.h, which loads it, included by them alone)
bad=$(grep -lE '\bcurl_[a-z_]+|\bCURL(OPT|INFO|E)_|#include *<curl/|client_curl\.h' engine/*.[ch] data/*.[ch] tui/*.[ch] tui/*/*.[ch] 2>/dev/null |
	grep -vE '^data/client[a-z_]*\.c$|^data/client_curl\.h$')
[ -z "$bad" ] && pass "libcurl is used only in data/client*.c" || fail "libcurl used outside data/client*.c: $bad"
bad=$(grep -lE '\bMHD_[A-Za-z_]+|#include *<microhttpd\.h>' engine/*.[ch] data/*.[ch] tui/*.[ch] tui/*/*.[ch] 2>/dev/null |
	grep -vE '^tui/serve/')
[ -z "$bad" ] && pass "libmicrohttpd is used only in tui/serve/" || fail "libmicrohttpd used outside tui/serve/: $bad"
# the front ends have one folder each
for d in tui/cli tui/console tui/serve; do
	[ -d "$d" ] && pass "$d/ is a front end of its own" || fail "$d/ is missing"
done
n=$(ls tui/*.c 2>/dev/null | wc -l)
[ "$n" -le 4 ] && pass "tui/ itself holds only what the front ends share ($n files)" ||
	fail "tui/ holds $n C files: front-end code belongs in cli/ or console/"

if nm -u "$ARBITER" 2>/dev/null | grep -q . ; then
	objs=$(ls "$(dirname "$ARBITER")"/engine/*.o 2>/dev/null)
	if [ -n "$objs" ] && nm -u $objs | grep -qE ' (sqlite3_|initscr|wgetch)'; then
		fail "engine objects call SQLite or curses"
	else
		pass "engine objects call neither SQLite nor curses"
	fi
	objs=$(for c in tui/*.c tui/*/*.c; do o="$(dirname "$ARBITER")/${c%.c}.o"; [ -f "$o" ] && echo "$o"; done)
	if [ -n "$objs" ] && nm -u $objs | grep -qE ' (sqlite3_|sodium_|crypto_sign|randombytes_)'; then
		fail "front-end objects call SQLite or libsodium"
	else
		pass "front-end objects call neither SQLite nor libsodium"
	fi
	all=$(find "$(dirname "$ARBITER")"/engine "$(dirname "$ARBITER")"/data "$(dirname "$ARBITER")"/tui -name '*.o' 2>/dev/null)
	bad=$(for o in $all; do case "$o" in */data/client*.o) continue ;; esac
		nm -u "$o" | grep -qE ' curl_' && echo "$o"; done)
	[ -z "$bad" ] && pass "objects other than data/client*.o call no libcurl function" ||
		fail "objects call libcurl outside data/client*.o: $bad"
	bad=$(for o in $all; do case "$o" in */tui/serve/*.o) continue ;; esac
		nm -u "$o" | grep -qE ' MHD_' && echo "$o"; done)
	[ -z "$bad" ] && pass "objects outside tui/serve/ call no libmicrohttpd function" ||
		fail "objects call libmicrohttpd outside tui/serve/: $bad"
	if [ -n "$objs" ] && nm -u $objs | grep -qE ' json_'; then
		fail "front-end objects call jansson: $(nm -uA $objs | grep -E ' json_' | head -3 | tr '\n' ' ')"
	else
		pass "front-end objects call no JSON library function"
	fi
fi
