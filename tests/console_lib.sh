# tests/console_lib.sh: driving `arbiter tui` in a private tmux server, for
# the suites that check what the console shows. Sourced after tests/lib.sh.
#
#   console_start [ENV=VALUE...] -- ARGS   the console in a fresh 100x30 session
#   screen                                  the screen as text
#   keys KEYS...                            send-keys
#   shows REGEX DESC / lacks REGEX DESC     waits (bounded) for the screen to
#                                           match / records that it does not
export LANG=C.UTF-8
TM="tmux -u -L arbiter-test-$$ -f /dev/null"
trap '$TM kill-server 2> /dev/null; rm -rf "$T"' EXIT

console_start() {
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	$TM kill-server 2> /dev/null
	# a server that is still exiting would take the new session down with it
	while $TM list-sessions > /dev/null 2>&1; do sleep 0.05; done
	$TM new-session -d -x 100 -y 30 -s c \
		"env LANG=C.UTF-8 ${envs[*]} ASAN_OPTIONS=${ASAN_OPTIONS:-} $ARBITER $* 2>> $T/console.err; echo EXIT=\$?; sleep 600"
}
screen() { $TM capture-pane -p -t c "$@"; }
keys() { $TM send-keys -t c "$@"; }
shows() {
	local i
	for i in $(seq 100); do
		if screen | grep -qE -- "$1"; then pass "$2"; return 0; fi
		sleep 0.1
	done
	fail "$2 (the screen lacks /$1/)"
	screen | sed 's/^/  screen| /' >&2
	return 1
}
lacks() {
	if screen | grep -qE -- "$1"; then
		fail "$2 (the screen has /$1/)"
		screen | sed 's/^/  screen| /' >&2
	else
		pass "$2"
	fi
}
