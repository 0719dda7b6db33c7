#!/bin/bash
# Identities for the server (PRODUCT.md section 9): agent add, list and
# revoke, and reviewer add's --user, --uid and --token. An admin's code is
# needed for each change; a token is printed once and only its SHA-256 is
# kept (nothing in the store's files holds it); a login or uid reaches one
# identity only, and never the store owner's uid (the test's own); names
# follow the name rule and are kept lower-cased; every change is audited,
# never with the token, and the chain still verifies.
. "$(dirname "$0")/../lib.sh"
clock_start
new_store
events() { q "SELECT count(*) FROM audit WHERE event = '$1'"; }
agents() { q "SELECT count(*) FROM agents"; }
# a code of NAME that is not the right one: the right one with its last digit moved on
wrong_code() {
	local c
	c=$(oathtool --totp -b "$(cat "$T/secret.$1")" -N "@$(clock_now)")
	printf '%s%d' "${c:0:5}" $(( (${c:5:1} + 1) % 10 ))
}
ME=$(id -u)
ME_LOGIN=$(id -un)
NOBODY_UID=$(id -u nobody)

# --- before any admin ---
arbiter --as alice agent add ci --uid 4242
expect_code 4 "without an admin nobody adds an agent"
expect_err 'only an enabled admin may change agents' "the refusal says who may"
[ "$(agents)" -eq 0 ] && pass "the refused agent is not stored" || fail "a refused agent was stored"

enrol alice --as alice --role admin || fail "enrolling alice"
enrol bob --as alice --code "$(code alice)" || fail "enrolling bob"

# --- refusals before anything is stored ---
arbiter --as bob agent add ci --uid 4242 --code "$(code bob)"
expect_code 4 "a plain reviewer may not add an agent"
expect_err 'bob is not an admin' "the refusal names the reason"
failures=$(events code.failure)
arbiter --as alice agent add ci --uid 4242 --code "$(wrong_code alice)"
expect_code 4 "a wrong code is refused"
expect_err 'code refused: wrong or already used code for alice' "the refusal says the code was wrong"
[ "$(events code.failure)" -gt "$failures" ] && pass "the wrong code is audited" || fail "no code.failure for the wrong code"
[ "$(agents)" -eq 0 ] && pass "no agent after the refusals" || fail "a refused agent was stored"
arbiter --as alice agent add ci --uid 4242 < /dev/null
expect_code 2 "without a code and no terminal: usage"
expect_err "alice's TOTP code is needed" "it says a code is needed"

# --- usage ---
arbiter agent add ci --user "$ME_LOGIN" --uid 4242
expect_code 2 "--user and --uid are exclusive"
expect_err 'exclusive' "the usage error says so"
arbiter agent add ci --uid 12ab
expect_code 2 "--uid takes a number"
arbiter agent add ci --uid 4294967295
expect_code 2 "--uid is at most 4294967294"
arbiter agent add ci --uid 4242 --rate 0
expect_code 2 "--rate is at least 1"
arbiter agent add ci
expect_code 2 "an agent needs a login, a uid or a token"
expect_err '--user LOGIN, --uid N or --token' "the usage error lists the three"
arbiter agent add ci --token=abc
expect_code 2 "--token takes no value: no token is ever given on the command line"
for bad in "two words" "-dash" ".dot" "caf$(printf '\303\251')" "a/b" "$(printf 'x%.0s' $(seq 65))" ""; do
	arbiter --as alice agent add --uid 4242 --code 000000 -- "$bad"
	expect_code 2 "a bad agent name is refused: '$bad'"
done
expect_err 'not an agent name' "the refusal says what a name is"
[ "$(agents)" -eq 0 ] && pass "bad names store nothing" || fail "a bad name was stored"

# --- add, with a token ---
arbiter --as alice agent add CI-Bot.1 --uid 4242 --token --rate 5 --code "$(code alice)"
expect_code 0 "an admin adds an agent with a uid, a token and a rate"
expect_out '^added agent ci-bot\.1: uid 4242, a bearer token, at most 5 requests a second$' "add says what reaches the agent (the name lower-cased)"
expect_out '^token: arbiter_[A-Za-z0-9_-]{43}$' "the token is printed: arbiter_ and 256 bits in base64url"
expect_out 'shown only now and cannot be shown again' "a warning says it is not shown again"
TOKEN=$(sed -n 's/^token: //p' "$OUT")
[ "$(grep -c 'arbiter_' "$OUT")" -eq 1 ] && pass "the token is printed once" || fail "the token is printed $(grep -c 'arbiter_' "$OUT") times"
expect_no_err "$TOKEN" "the token is not on stderr"
[ "$(q "SELECT name || ' ' || uid || ' ' || rate || ' ' || actor FROM agents")" = "ci-bot.1 4242 5 alice" ] \
	&& pass "the agent's row: name, uid, rate, who added it" || fail "agent row: $(q "SELECT * FROM agents")"
hash=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
[ "$(q "SELECT token_hash FROM agents")" = "$hash" ] && pass "the store keeps the token's SHA-256" || fail "token_hash is not the token's SHA-256"
if grep -rqF -- "${TOKEN#arbiter_}" "$H"; then fail "the token is in the store's files"; else pass "no file of the store holds the token"; fi
[ "$(events agent.add)" -eq 1 ] && pass "agent.add is audited" || fail "agent.add events: $(events agent.add)"
[ "$(q "SELECT actor || ' ' || subject || ' ' || details FROM audit WHERE event = 'agent.add'")" = \
	'alice ci-bot.1 {"login":null,"name":"ci-bot.1","rate":5,"token":true,"uid":4242}' ] \
	&& pass "agent.add says who, which agent, uid, login, rate and that a token was made" \
	|| fail "agent.add: $(q "SELECT details FROM audit WHERE event = 'agent.add'")"

# --- list ---
arbiter agent list
expect_code 0 "agent list exits 0"
expect_out '^NAME +LOGIN +UID +TOKEN +RATE +ADDED +BY$' "agent list has a header"
expect_out '^ci-bot\.1 +- +4242 +yes +5/s +2030-01-01T00:00:00\.000Z +alice$' "agent list shows the agent"
expect_no_out "arbiter_" "agent list shows no token"
arbiter agent list --json
expect_code 0 "agent list --json exits 0"
expect_out '^\{"name":"ci-bot\.1","login":null,"uid":4242,"token":true,"rate":5,"created":"2030-01-01T00:00:00\.000Z","by":"alice","revoked":null\}$' "agent list --json prints one object per agent"
expect_no_out "$hash" "agent list --json shows no hash"

# --- one identity per name, login and uid ---
arbiter --as alice agent add ci-bot.1 --uid 5000 --code "$(code alice)"
expect_code 1 "a name is added once"
expect_err 'ci-bot.1 is already the name of an agent' "the refusal says the name is taken"
arbiter --as alice agent add CI-BOT.1 --uid 5000 --code "$(code alice)"
expect_code 1 "names differing in case are one name"
arbiter --as alice agent add bob --uid 5000 --code "$(code alice)"
expect_code 1 "an agent may not take a reviewer's name"
expect_err 'bob is already the name of a reviewer' "the refusal names what holds the name"
arbiter --as alice agent add other --uid 4242 --code "$(code alice)"
expect_code 1 "a uid reaches one agent only"
expect_err 'uid 4242 already reaches agent ci-bot\.1: a login or uid reaches one identity only' "the refusal names who has the uid"
arbiter --as alice reviewer add carol --uid 4242 --code "$(code alice)"
expect_code 1 "a reviewer may not take an agent's uid"
expect_err 'already reaches agent ci-bot\.1' "the reviewer's refusal names the agent"
[ "$(q "SELECT count(*) FROM reviewers WHERE name = 'carol'")" -eq 0 ] && [ ! "$(grep -c carol "$H/users.oath")" -gt 0 ] \
	&& pass "the refused reviewer is not enrolled" || fail "carol was enrolled"
enrol dave --as alice --uid 5001 --code "$(code alice)" || fail "enrolling dave with a uid"
[ "$(q "SELECT uid FROM reviewers WHERE name = 'dave'")" = 5001 ] && pass "reviewer add --uid records the uid" || fail "dave's uid"
arbiter --as alice agent add daves-agent --uid 5001 --code "$(code alice)"
expect_code 1 "an agent may not take a reviewer's uid"
expect_err 'uid 5001 already reaches reviewer dave' "the refusal names the reviewer"

# --- the owner's uid, and logins ---
arbiter --as alice agent add mine --uid "$ME" --code "$(code alice)"
expect_code 1 "no agent on the store owner's uid"
expect_err "is the store owner's" "the refusal says whose uid it is"
expect_err 'agent add mine --token' "and how an agent there is made"
arbiter --as alice agent add mine --user "$ME_LOGIN" --code "$(code alice)"
expect_code 1 "nor on the owner's login"
arbiter --as alice agent add mine --token --code "$(code alice)"
expect_code 0 "an agent by its token alone (usable from the owner's uid)"
[ "$(q "SELECT ifnull(uid, 'none') FROM agents WHERE name = 'mine'")" = none ] && pass "a token-only agent has no uid" || fail "mine has a uid"
arbiter --as alice agent add ghost --user no-such-login-here --code "$(code alice)"
expect_code 1 "a login that does not exist is an error"
expect_err 'there is no login no-such-login-here on this system' "the error names the login"
arbiter --as alice agent add nob --user nobody --code "$(code alice)"
expect_code 0 "an agent by an existing login"
expect_out "uid $NOBODY_UID \\(login nobody\\)" "the login is resolved to its uid"
[ "$(q "SELECT login || ' ' || uid FROM agents WHERE name = 'nob'")" = "nobody $NOBODY_UID" ] && pass "the row keeps login and uid" || fail "nob's row"
arbiter --as alice reviewer add nobody --code "$(code alice)"
expect_code 1 "a reviewer's default login may not be an agent's"
expect_err 'uid [0-9]+ \(login nobody\) already reaches agent nob' "the refusal names the agent"

# --- revoke ---
arbiter --as bob agent revoke ci-bot.1 --code "$(code bob)"
expect_code 4 "a plain reviewer may not revoke"
arbiter --as alice agent revoke nosuch --code 000000
expect_code 1 "revoking an unknown agent: not found"
expect_err 'no such agent' "it says so"
arbiter --as alice agent revoke CI-Bot.1 --code "$(code alice)"
expect_code 0 "an admin revokes an agent (any case of its name)"
expect_out '^revoked agent ci-bot\.1' "revoke says so"
[ -n "$(q "SELECT revoked_at FROM agents WHERE name = 'ci-bot.1'")" ] && pass "the row records when" || fail "no revoked_at"
[ "$(q "SELECT actor || ' ' || subject FROM audit WHERE event = 'agent.revoke'")" = "alice ci-bot.1" ] && pass "agent.revoke is audited" || fail "agent.revoke: $(events agent.revoke)"
arbiter --as alice agent revoke ci-bot.1 --code 000000
expect_code 4 "revoking twice: wrong state"
expect_err 'already revoked' "it says so"
arbiter agent list
expect_out '^ci-bot\.1 .*\(revoked 2030-' "list shows the agent revoked"
arbiter --as alice agent add ci-bot.1 --uid 4242 --code "$(code alice)"
expect_code 1 "a revoked agent keeps its name"
arbiter --as alice agent add ci2 --uid 4242 --code "$(code alice)"
expect_code 0 "a revoked agent's uid may be given again"

# --- reviewers through the server ---
q "SELECT login FROM reviewers WHERE name = 'bob'" | grep -qx bob && pass "a reviewer's login is their name by default" || fail "bob's login"
arbiter --as alice reviewer add erin --user no-such-login-here --code "$(code alice)"
expect_code 1 "reviewer add --user needs an existing login"
arbiter reviewer add erin --user x --uid 1
expect_code 2 "reviewer add: --user and --uid are exclusive"
arbiter reviewer add erin --rate 3
expect_code 2 "a rate is not a reviewer's"
enrol erin --as alice --uid 5002 --token --code "$(code alice)" || fail "enrolling erin with a token"
RTOKEN=$(sed -n 's/^token: //p' "$T/enrol.erin")
[[ $RTOKEN =~ ^arbiter_[A-Za-z0-9_-]{43}$ ]] && pass "reviewer add --token prints a token" || fail "no reviewer token"
[ "$(grep -c 'arbiter_' "$T/enrol.erin")" -eq 1 ] && pass "the reviewer's token is printed once" || fail "the reviewer's token is printed more than once"
[ "$(q "SELECT token_hash FROM reviewers WHERE name = 'erin'")" = "$(printf '%s' "$RTOKEN" | sha256sum | cut -d' ' -f1)" ] \
	&& pass "the store keeps the reviewer token's SHA-256" || fail "erin's token_hash"
if grep -rqF -- "${RTOKEN#arbiter_}" "$H"; then fail "the reviewer's token is in the store's files"; else pass "no file holds the reviewer's token"; fi
q "SELECT details FROM audit WHERE event = 'reviewer.add' AND subject = 'erin'" | grep -q '"token":true,"uid":5002' \
	&& pass "reviewer.add says a token was made and the uid" || fail "reviewer.add details"
arbiter reviewer list --json
expect_out '"name":"erin",.*"login":null,"uid":5002,"token":true' "reviewer list --json shows login, uid and token"

arbiter audit verify
expect_code 0 "the chain verifies after every change"
