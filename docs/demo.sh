#!/bin/sh
# make run: a demo store in demo/, then the reviewer console on it.
#
# The first run creates demo/.arbiter with the example policies, enrols the
# current user as its admin (the secret, the QR code and how to get a code
# from the command line are printed once, and the secret is kept in
# demo/secret.txt so that the demo can be driven later), and submits the
# example submissions plus a few hundred generated proposals, exports and
# imports. Later runs reuse the store and open the console at once.
cd "$(dirname "$0")/.." || exit 1
A=$PWD/arbiter
EX=$PWD/docs/examples
D=$PWD/demo
if [ ! -d "$D/.arbiter" ]; then
	"$A" init "$D" > /dev/null || exit 1
	user=$(id -un)
	"$A" --home "$D" reviewer add "$user" --role admin | tee "$D/enrolment.txt" || exit 1
	sed -n 's/^secret (base32): //p' "$D/enrolment.txt" > "$D/secret.txt"
	chmod 600 "$D/secret.txt" "$D/enrolment.txt"
	"$A" --home "$D" submit "$EX"/submissions/*.yaml "$EX"/submissions/*.jsonl > /dev/null 2>&1
	# a few hundred generated submissions from a handful of agents
	awk 'BEGIN {
		srand(7);
		split("z3ed-agent-7 scalpel-agent studio-export orchestrator importer gw-acme", who, " ");
		for (i = 1; i <= 300; i++) {
			w = who[1 + int(rand() * 6)]; r = rand();
			if (r < 0.45)
				printf "{\"action\":\"rom.patch\",\"ref\":\"demo/%d\",\"title\":\"Patch bank %d at 0x%X\",\"submitter\":\"%s\",\"bytes_changed\":%d,\"changes\":[{\"offset\":%d,\"length\":%d}],\"banks\":[%d],\"tests\":{\"overworld_rendering\":%.2f,\"palette_integrity\":1.0,\"dungeon_logic\":%.2f},\"commands_executed\":3,\"test_failures\":0}\n", i, i % 16, 4096 + int(rand() * 60000), w, 4 + int(rand() * 4000), 4096 + int(rand() * 61000), 2 + int(rand() * 64), i % 16, 0.9 + rand() / 10, 0.95 + rand() / 20;
			else if (r < 0.75)
				printf "{\"action\":\"code.modify\",\"ref\":\"demo/%d\",\"title\":\"Refactor module %d\",\"submitter\":\"%s\",\"bytes_changed\":%d,\"file_size\":%d,\"files\":[{\"path\":\"src/mod%d.c\",\"op\":\"%s\"}]}\n", i, i, w, 10 + int(rand() * 900), 100 + int(rand() * 20000), i, (rand() < 0.2 ? "delete" : "modify");
			else if (r < 0.92)
				printf "{\"action\":\"export.bundle\",\"ref\":\"demo/%d\",\"title\":\"Export build %d\",\"submitter\":\"%s\",\"license\":\"%s\",\"project\":\"demo-project\"}\n", i, i, w, (rand() < 0.3 ? "CC-BY-NC-4.0" : "MIT");
			else
				printf "{\"action\":\"import.chat\",\"ref\":\"demo/%d\",\"title\":\"Import chat log %d\",\"submitter\":\"%s\",\"license\":\"unknown\"}\n", i, i, w;
		}
	}' > "$D/generated.jsonl"
	"$A" --home "$D" submit --jsonl "$D/generated.jsonl" > /dev/null 2>&1
	echo
	echo "demo store: $D/.arbiter ($("$A" --home "$D" list --status waiting --limit 100000 | tail -n +2 | wc -l) submissions waiting)"
	echo "your code, whenever the console asks for one:  oathtool --totp -b $(cat "$D/secret.txt")"
	echo "press Enter to open the console (? shows the keys, q quits)"
	[ -t 0 ] && read -r _
fi
exec "$A" --home "$D" tui
