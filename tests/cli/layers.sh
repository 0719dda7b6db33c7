#!/bin/bash
# The layers only look down: engine/ includes neither SQLite nor curses nor
# anything of data/ or tui/; data/ includes no curses and nothing of tui/.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
bad=$(grep -lE '#include *[<"](sqlite3|n?curses(w)?/?[a-z]*|\.\./(data|tui)/)' engine/*.c engine/*.h 2>/dev/null)
[ -z "$bad" ] && pass "engine/ includes no SQLite, curses, data/ or tui/" || fail "engine/ reaches up or out: $bad"
bad=$(grep -lE '#include *[<"](n?curses|\.\./tui/)' data/*.c data/*.h 2>/dev/null)
[ -z "$bad" ] && pass "data/ includes no curses and nothing of tui/" || fail "data/ reaches up: $bad"
if nm -u "$ARBITER" 2>/dev/null | grep -q . ; then
	objs=$(ls "$(dirname "$ARBITER")"/engine/*.o 2>/dev/null)
	if [ -n "$objs" ] && nm -u $objs | grep -qE ' (sqlite3_|initscr|wgetch)'; then
		fail "engine objects call SQLite or curses"
	else
		pass "engine objects call neither SQLite nor curses"
	fi
fi
