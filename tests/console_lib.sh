# tests/console_lib.sh: a terminal for the suites that check what a person
# sees: the console (or any command) in a private tmux server at a fixed
# size, keys sent with send-keys, the screen read back with capture-pane.
# Sourced after tests/lib.sh.
#
#   term_session COMMAND                 COMMAND (a shell line) in a fresh
#                                         session of $TERM_COLS x $TERM_ROWS
#                                         (default 100x30)
#   console_start [ENV=VALUE...] -- ARGS  arbiter ARGS in a fresh session,
#                                         then EXIT=N when it ends
#   screen, keys KEYS...                 capture-pane, send-keys
#   shows REGEX DESC, shows_text TEXT DESC: wait (at most 10 s) for the
#                                         screen to match (grep -E / -F)
#   lacks REGEX DESC                     the screen does not match, now
export LANG=C.UTF-8
TM="tmux -u -L arbiter-test-$$ -f /dev/null"
trap '$TM kill-server 2> /dev/null; served_stop; rm -rf "$T"' EXIT

term_session() {
	$TM kill-server 2> /dev/null
	# a server that is still exiting would take the new session down with it
	while $TM list-sessions > /dev/null 2>&1; do sleep 0.05; done
	$TM new-session -d -x "${TERM_COLS:-100}" -y "${TERM_ROWS:-30}" -s c "$1"
}
console_start() {
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	term_session "env LANG=C.UTF-8 ${envs[*]} ARBITER_TEST_NOW=${ARBITER_TEST_NOW:-} ASAN_OPTIONS=${ASAN_OPTIONS:-} $ARBITER $* \
		2>> $T/console.err; echo EXIT=\$?; sleep 600"
}
screen() { $TM capture-pane -p -t c "$@"; }
keys() { $TM send-keys -t c "$@"; }
screen_waits() {        # GREP-FLAG PATTERN DESC
	local i
	for i in $(seq 100); do
		if screen | grep -q"$1" -- "$2"; then pass "$3"; return 0; fi
		sleep 0.1
	done
	fail "$3 (the screen lacks /$2/)"
	screen | sed 's/^/  screen| /' >&2
	return 1
}
shows() { screen_waits E "$1" "$2"; }
shows_text() { screen_waits F "$1" "$2"; }
lacks() {
	if screen | grep -qE -- "$1"; then
		fail "$2 (the screen has /$1/)"
		screen | sed 's/^/  screen| /' >&2
	else
		pass "$2"
	fi
}
