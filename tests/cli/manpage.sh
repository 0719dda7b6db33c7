#!/bin/bash
# The man page's SYNOPSIS is the command table's (docs/synopsis.sh writes it
# from `arbiter --help`), and each command's usage names every option the
# command takes, so --help, the dispatcher and the man page cannot disagree.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' docs/arbiter.1 | sed '$d' > "$T/man"
sh docs/synopsis.sh "$ARBITER" > "$T/table"
if diff -u "$T/man" "$T/table" > "$T/diff"; then
	pass "docs/arbiter.1's SYNOPSIS is the command table's"
else
	fail "docs/arbiter.1's SYNOPSIS differs from the command table (run sh docs/synopsis.sh ./arbiter)"
	head -40 "$T/diff" >&2
fi
n=0
while read -r name; do
	n=$((n + 1))
	"$ARBITER" $name --help > "$T/help"
	usage=$(sed -n "s/^usage: arbiter $name *//p" "$T/help")
	for opt in $(sed -n 's/^options: //p' "$T/help" | tr ',' ' '); do
		case "$opt" in --*) ;; *) continue ;; esac
		grep -qE -- "(^|[[ |])$opt( |\\]|\\||$)" <<< "$usage" ||
			fail "arbiter $name takes $opt, but its usage does not say so: $usage"
	done
	grep -q -- "^\\.B arbiter $name\$" docs/arbiter.1 || fail "arbiter.1 has no synopsis of $name"
done < <("$ARBITER" --help | sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p')
[ "$n" -ge 20 ] && pass "every command's usage names its options ($n commands)" ||
	fail "only $n commands listed by arbiter --help"
