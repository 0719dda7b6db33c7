#!/bin/bash
# A store is its owner's alone (PRODUCT.md section 1): init gives exactly
# 0700 and 0600 (config.yaml and the policy files 0444, keys/audit.pub and
# keys/audit-1.pub 0644) whatever the umask, and SQLite's -wal and -shm come out 0600
# whichever process creates them; users.oath stays 0600 when rewritten.
# Each file loosened in turn, or owned by another uid, is refused by a
# local command and by arbiter serve at start, with one line naming the
# file and the fix, and nothing written; the fix printed, run as it is,
# makes the store work again. The systemd unit in docs/ serves the store
# its own command line names, whatever the environment and working
# directory. The server's socket directory must be writable by nobody
# else. Another uid takes setpriv, which needs root.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
cd "$T" || exit 1
export ARBITER_HOME=
EX=$ROOT/docs/examples
OTHER=4242

# the modes of every file of a store, "MODE PATH" sorted by path
modes() { (cd "$1" && find . -printf '%m %p\n' | sort -k2); }
want="700 .
600 ./arbiter.db
600 ./arbiter.db-shm
600 ./arbiter.db-wal
444 ./config.yaml
700 ./keys
644 ./keys/audit-1.pub
600 ./keys/audit.key
644 ./keys/audit.pub
700 ./policies
444 ./policies/10-rom.yaml
444 ./policies/20-guardian.yaml
444 ./policies/30-epic4.yaml
444 ./policies/40-license.yaml
444 ./policies/50-tools.yaml
600 ./users.oath"
# and once a command has loaded the policies: their kept trees (policy_trees.c)
used=$(printf '%s\n600 ./policies.cache' "$want" | sort -k2)

# --- init, whatever the umask ---
for u in 000 022 077; do
	(umask "$u" && "$ARBITER" init "$T/u$u" > /dev/null) || fail "init under umask $u"
	got=$(modes "$T/u$u/.arbiter")
	[ "$got" = "$want" ] && pass "init under umask $u gives exactly the store's modes" ||
		fail "init under umask $u: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
done

# users.oath replaced (reviewer add writes a new file and renames it) stays 0600
(umask 000 && "$ARBITER" --home "$T/u000" reviewer add alice --role admin > /dev/null) ||
	fail "reviewer add under umask 000"
[ "$(stat -c %a "$T/u000/.arbiter/users.oath")" = 600 ] &&
	[ -s "$T/u000/.arbiter/users.oath" ] && pass "users.oath rewritten under umask 000 is 0600" ||
	fail "users.oath is $(stat -c %a "$T/u000/.arbiter/users.oath") after reviewer add"
[ -z "$(ls "$T/u000/.arbiter" | grep tmp)" ] && pass "and no temporary file is left" ||
	fail "left behind: $(ls "$T/u000/.arbiter")"

# --- -wal and -shm, whichever process creates them ---
H=$T/u022/.arbiter
sqlite3 "$H/arbiter.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
rm -f "$H/arbiter.db-wal" "$H/arbiter.db-shm"
(umask 000 && "$ARBITER" --home "$T/u022" list > /dev/null) || fail "list after the log was removed"
[ "$(stat -c %a "$H/arbiter.db-wal") $(stat -c %a "$H/arbiter.db-shm")" = "600 600" ] &&
	pass "a later command under umask 000 creates -wal and -shm 0600" ||
	fail "-wal $(stat -c %a "$H/arbiter.db-wal"), -shm $(stat -c %a "$H/arbiter.db-shm")"
sqlite3 "$H/arbiter.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
rm -f "$H/arbiter.db-wal" "$H/arbiter.db-shm"
# (sqlite3 removes them as it closes: their modes are read while it is open)
got=$(cd "$H" && umask 000 && sqlite3 arbiter.db "SELECT count(*) FROM audit" \
	".shell stat -c %a arbiter.db-wal arbiter.db-shm" | sort | tr '\n' ' ')
[ "$got" = "1 600 600 " ] &&
	pass "so does another program that opens the database first (sqlite3, umask 000)" ||
	fail "under sqlite3: $got"
# a server and a command starting together on a store whose log is gone
sqlite3 "$H/arbiter.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
rm -f "$H/arbiter.db-wal" "$H/arbiter.db-shm"
(
	umask 000
	"$ARBITER" --home "$T/u022" list > /dev/null 2>&1 &
	"$ARBITER" --home "$T/u022" submit "$EX/submissions/code-01-refactor.yaml" > /dev/null 2>&1 &
	wait
)
[ "$(modes "$H")" = "$used" ] && pass "two commands racing to create the log leave every mode as init made it" ||
	fail "after the race: $(modes "$H" | tr '\n' ' ')"

# --- each file loosened in turn: refused locally and by the server, then fixed ---
# The store's path has a space: the fix printed is a shell command as it is.
(umask 022 && "$ARBITER" init "$T/my store" > /dev/null) || fail "init in a directory with a space"
S="$T/my store"
H=$S/.arbiter
"$ARBITER" --home "$S" submit "$EX/submissions/code-01-refactor.yaml" > /dev/null 2>&1
# what a refused command must leave as it was
state() { cksum "$H/arbiter.db" "$H/arbiter.db-wal" "$H/users.oath"; }
printf 'postgresql://arbiter@db.example/arbiter\n' > "$H/store.url" && chmod 600 "$H/store.url"
for spec in ".:g+r:700" "keys:o+x:700" "policies:g+rx:700" "arbiter.db:g+r:600" \
	"arbiter.db-wal:g+rw:600" "arbiter.db-shm:o+r:600" "keys/audit.key:g+r:600" \
	"users.oath:g+r:600" "store.url:o+r:600" "policies.cache:g+r:600" "config.yaml:g+w:444" \
	"policies/10-rom.yaml:o+w:444" "keys/audit.pub:g+w:644" "keys/audit-1.pub:o+w:644"; do
	IFS=: read -r file how mode <<< "$spec"
	path=$H/$file
	[ "$file" = . ] && path=$H
	chmod "$how" "$path"
	before=$(state)
	arbiter --home "$S" submit "$EX/submissions/code-01-refactor.yaml"
	expect_code 1 "$file $how: submit is refused"
	line=$(grep -c . "$ERR")
	fix=$(sed -n 's/.*; run: //p' "$ERR")
	[ "$line" = 1 ] && grep -qF "$path: mode " "$ERR" && [ "$fix" = "chmod $mode '$path'" ] &&
		pass "$file $how: one line names the file and the fix, chmod $mode" ||
		fail "$file $how: the message ($(cat "$ERR"))"
	run timeout 20 "$ARBITER" --home "$S" serve --socket "$T/run.sock"
	expect_code 1 "$file $how: arbiter serve refuses to start"
	grep -qF "arbiter serve: $path: mode " "$ERR" && grep -qF "; run: $fix" "$ERR" &&
		pass "$file $how: the server says the same" || fail "$file $how: the server said ($(cat "$ERR"))"
	[ ! -e "$T/run.sock" ] && [ "$(state)" = "$before" ] &&
		pass "$file $how: nothing written, no socket" || fail "$file $how: something was written"
	eval "$fix"
	arbiter --home "$S" list --limit 1
	expect_code 0 "$file $how: after the fix printed, the store opens"
done
rm "$H/store.url"
# eval and policy check read the store's policies without opening it: the
# same check, so a policy file others could write is never read as pinned
chmod g+w "$H/policies/10-rom.yaml"
arbiter --home "$S" eval "$EX/submissions/code-01-refactor.yaml"
expect_code 1 "eval on the store's policies is refused too"
expect_err "10-rom.yaml: mode 0464 lets other users write it; run: chmod 444 " "naming the file and the fix"
arbiter --home "$S" policy check
expect_code 1 "and so is policy check"
chmod 444 "$H/policies/10-rom.yaml"
arbiter --home "$S" policy check
expect_code 0 "which passes once it is fixed"
# read bits on the read-only files are init's own; a write bit for the
# owner is how an admin edits a policy before pinning it
chmod 644 "$H/config.yaml" && chmod u+w "$H/policies/10-rom.yaml"
arbiter --home "$S" list --limit 1
expect_code 0 "an owner's write bit on config.yaml or a policy file is not refused"
chmod 444 "$H/config.yaml" "$H/policies/10-rom.yaml"
SERVE_SOCKET=$T/run.sock serve_start --home "$S" --socket "$T/run.sock"
api GET /health
expect_status 200 "after the fixes the server starts and answers"
serve_stop
[ "$(modes "$H" | grep -v ' ./arbiter.sock$' | grep -v '^600 ./arbiter-')" = "$used" ] &&
	pass "and leaves every mode as init made it" || fail "after the server: $(modes "$H" | tr '\n' ' ')"

# --- the wrappers in docs/ name the store themselves ---
# The systemd unit's ExecStart, run as it is (its paths moved under $T),
# from a directory holding another store and with ARBITER_HOME naming a
# third: it serves the store its own command line names.
UNIT=$ROOT/docs/examples/systemd/arbiter.service
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
grep -q '^Environment=.*ARBITER' "$UNIT" && fail "the unit sets the store in its environment" ||
	pass "the unit sets no ARBITER_ variable"
mkdir -m 755 "$T/svcrun"
(umask 022 && "$ARBITER" init "$T/svc" > /dev/null && "$ARBITER" init "$T/decoy" > /dev/null) ||
	fail "init the service's store and a decoy"
cmd=$(printf '%s' "$exec_start" | sed "s#^/usr/local/bin/arbiter#$ARBITER#; s#/var/lib/arbiter#$T/svc#g; s#/run/arbiter#$T/svcrun#g")
(cd "$T/decoy" && ARBITER_HOME=$T/u022 exec $cmd) 2> "$T/serve.log" &
SERVE_PID=$!
SOCK=$T/svcrun/arbiter.sock
for _ in $(seq 1 100); do
	curl -s --unix-socket "$SOCK" -o /dev/null http://arbiter/health 2>/dev/null && break
	sleep 0.05
done
api GET /v1/status
expect_status 200 "the unit's command line starts the server"
id=$(sqlite3 "$T/svc/.arbiter/arbiter.db" "SELECT value FROM meta WHERE key = 'store_id'")
expect_out "\"$id\"" "on the store its command line names, not the working directory's or ARBITER_HOME's"
serve_stop
found=$(grep -rl 'ARBITER_HOME' "$ROOT/README.md" "$ROOT/docs" | grep -v 'docs/arbiter\.1$')
[ -z "$found" ] && pass "no script or snippet in docs/ or README takes the store from ARBITER_HOME" ||
	fail "ARBITER_HOME in: $found"

# --- owned by another uid ---
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null; then
	fail "modes.sh runs as root with setpriv, to take another uid"
	exit 0
fi
chown "$OTHER" "$H/users.oath"
before=$(state)
arbiter --home "$S" submit "$EX/submissions/code-01-refactor.yaml"
expect_code 1 "users.oath owned by another uid is refused"
expect_err "^arbiter: $H/users.oath: owned by uid $OTHER, not by the store's owner, root \\(uid 0\\); run as root: chown root '$H/users.oath'\$" \
	"the line names the file, its owner and the chown that fixes it"
run timeout 20 "$ARBITER" --home "$S" serve --socket "$T/run.sock"
expect_code 1 "and the server refuses to start"
[ "$(state)" = "$before" ] && [ ! -e "$T/run.sock" ] && pass "nothing written" || fail "something was written"
chown root "$H/users.oath"

# a store of another account: refused to root too, which would leave files
# its owner cannot read; its owner opens it
chmod 711 "$T"
chown -R "$OTHER" "$S"
arbiter --home "$S" list
expect_code 1 "root is refused another account's store"
expect_err "^arbiter: $H: owned by uid $OTHER, and you are root \\(uid 0\\): a store is its owner's alone; run arbiter as its owner \\(sudo -u '#$OTHER' arbiter \\.\\.\\.\\), or reach the store through its server\$" \
	"the line says whose it is and how to reach it"
run setpriv --reuid "$OTHER" --regid "$OTHER" --clear-groups "$ARBITER" --home "$S" list --limit 1
expect_code 0 "its owner opens it"
[ -z "$(find "$S" ! -uid "$OTHER")" ] && pass "and every file is still the owner's" ||
	fail "not the owner's: $(find "$S" ! -uid "$OTHER")"
chown -R root "$S"
chmod 700 "$T"

# --- the server's socket directory ---
mkdir -m 755 "$T/run" "$T/open" "$T/theirs"
chmod 777 "$T/open"
chown "$OTHER" "$T/theirs"
run timeout 20 "$ARBITER" --home "$S" serve --socket "$T/open/arbiter.sock"
expect_code 1 "a socket directory others may write is refused"
expect_err "^arbiter serve: $T/open: mode 0777 lets other users replace the socket; run: chmod 755 $T/open\$" \
	"the line names the directory and the fix"
run timeout 20 "$ARBITER" --home "$S" serve --socket "$T/theirs/arbiter.sock"
expect_code 1 "a socket directory of another account is refused"
expect_err "^arbiter serve: $T/theirs: owned by uid $OTHER, not by root or the server's user" \
	"the line names the directory and its owner"
chmod 1777 "$T/open"
run timeout 20 "$ARBITER" --home "$S" serve --socket "$T/open/arbiter.sock"
expect_code 1 "a shared scratch directory (sticky, like /tmp) is refused"
expect_err "put it in a directory that only you or root can write, such as /run/arbiter" \
	"with where to put the socket instead"
[ -z "$(find "$T/open" "$T/theirs" -mindepth 1)" ] && pass "no socket was made in either" || fail "a socket was made"
