#!/bin/bash
# Every status through every front end that reports one (PRODUCT.md section
# 7): a resubmitted ref (submit), show, wait, list --json and the console
# agree on each of allowed, pending, blocked, approved, rejected, overridden
# and expired, and the commands exit by the one status table: 0 may proceed,
# 3 awaiting review, 4 refused.
. "$(dirname "$0")/../lib.sh"
command -v tmux > /dev/null || { fail "tmux is missing (make test installs it)"; exit 0; }
. "$ROOT/tests/console_lib.sh"
EX=$ROOT/docs/examples/submissions
clock_start
new_store
export ARBITER_HOME=$H
enrol walker --role admin || fail "enrol walker"
enrol second --role admin --as walker --code "$(code walker)" || fail "enrol second"

declare -A ID
# sub NAME FILE: submits FILE under ref walk/NAME; its id in ID[NAME]
sub() {
	sed "s|^ref: .*|ref: walk/$1|" "$2" > "$T/$1.yaml"
	arbiter submit --json "$T/$1.yaml"
	ID[$1]=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
}
sub allowed "$EX/code-01-refactor.yaml"
sub pending "$EX/code-04-cleanup.yaml"
sub approved "$EX/code-04-cleanup.yaml"
sub rejected "$EX/code-04-cleanup.yaml"
sub blocked "$EX/code-02-complexity.yaml"
sub overridden "$EX/code-02-complexity.yaml"
sub expired "$EX/code-02-complexity.yaml"
arbiter --as walker approve "${ID[approved]}" --ack --code "$(code walker)"
expect_code 0 "the approval is recorded"
arbiter --as walker reject "${ID[rejected]}" --reason "not this way" --code "$(code walker)"
expect_code 0 "the rejection is recorded"
declare -A FOR=([overridden]=8h [expired]=1h)
for s in overridden expired; do
	arbiter --as walker override "${ID[$s]}" --justification "reviewed the complexity by hand" \
		--expires "${FOR[$s]}" --code "$(code walker)"
	if [ "$CODE" -eq 3 ]; then
		arbiter --as second override "${ID[$s]}" --justification "reviewed the complexity by hand" \
			--expires "${FOR[$s]}" --code "$(code second)"
	fi
	expect_code 0 "the override of the $s one is granted"
done
# an override past its expiry reads as expired: the test clock moves past it
clock_advance 3600

declare -A EXIT=([allowed]=0 [pending]=3 [blocked]=3 [approved]=0 [rejected]=4 [overridden]=0 [expired]=4)
for s in allowed pending blocked approved rejected overridden expired; do
	id=${ID[$s]}
	arbiter submit "$T/$s.yaml"
	expect_code "${EXIT[$s]}" "submit of the $s one's ref again exits ${EXIT[$s]}"
	expect_out "already stored as submission $id \\($s\\)" "submit names it $s"
	arbiter submit --json "$T/$s.yaml"
	expect_out "\"status\":\"$s\"" "submit --json of the ref again says $s"
	arbiter show "$id"
	expect_code "${EXIT[$s]}" "show of the $s one exits ${EXIT[$s]}"
	expect_out "$s" "show says $s"
	arbiter show --json "$id"
	expect_out "\"status\":\"$s\"" "show --json says $s"
	arbiter wait "$id" --timeout 0
	expect_code "${EXIT[$s]}" "wait on the $s one exits ${EXIT[$s]}"
	arbiter list --status all --json
	grep -q "\"id\":$id,.*\"status\":\"$s\"" "$OUT" && pass "list --json says $s" ||
		fail "list --json: $(grep "\"id\":$id," "$OUT")"
done

# the console: the queue's "all" view shows each one's status on its row
# (the console does not go through a server yet: a served run ends here)
served && exit 0
console_start "ARBITER_HOME=$H" -- tui
shows 'Waiting' "the console opens on the queue"
keys Tab Tab
for s in allowed pending blocked approved rejected overridden expired; do
	shows "^${ID[$s]} .* $s " "the console shows the $s one as $s"
done
