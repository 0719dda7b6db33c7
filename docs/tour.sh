#!/bin/sh
# sh docs/tour.sh: a walk through arbiter's command line on the example
# policy set and submissions (make run opens the console instead).
cd "$(dirname "$0")/.." || exit 1
EX=docs/examples
A=./arbiter
say() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

say "The example policy set loads and compiles cleanly" "arbiter policy check --policies $EX/policies"
$A policy check --policies $EX/policies

say "A proposal that rewrites the ROM header is blocked" \
    "arbiter eval --policies $EX/policies $EX/submissions/rom-02-header-patch.yaml"
$A eval --policies $EX/policies $EX/submissions/rom-02-header-patch.yaml
echo "(exit $?: 3 means awaiting review)"

say "A risky tool call is allowed only in draft mode (effect: modify)" \
    "arbiter eval --policies $EX/policies --json $EX/submissions/tool-calls.yaml | head -3"
$A eval --policies $EX/policies --json $EX/submissions/tool-calls.yaml | head -3

say "A wrongly typed field is an evaluation error, and fails closed" \
    "arbiter eval --policies $EX/policies $EX/submissions/rom-05-bad-type.yaml"
$A eval --policies $EX/policies $EX/submissions/rom-05-bad-type.yaml

say "Every example submission, one line each" "arbiter eval --policies $EX/policies --json $EX/submissions/*"
$A eval --policies $EX/policies --json $EX/submissions/*.yaml $EX/submissions/*.jsonl 2>/dev/null |
	sed -n 's/^{"ref":"\([^"]*\)","kind":"\([a-z]*\)","action":"\([^"]*\)".*"status":"\([a-z]*\)".*/\4 \2 \3 \1/p' |
	awk '{ printf "  %-8s %-9s %-22s %s\n", $1, $2, $3, $4; n[$1]++ }
	     END { printf "\n  %d allowed, %d pending, %d blocked\n", n["allowed"], n["pending"], n["blocked"] }'
echo
echo "Next: man ./docs/arbiter.1, docs/policies.md, and make test."
