#!/bin/bash
# Floors inside each layer (ARCHITECTURE.md): within engine/, within data/
# and within tui/, no files call each other in a circle. The call graph is
# read from the objects of the build under test (beside $ARBITER), not from
# the sources: file A calls file B when A's object has an undefined symbol
# that B's object defines (nm). Functions, tables and variables all count.
# A loop of two files or of more fails, naming every file in it and one
# path around it with the symbols that close it.
#
# First the check is run on small objects made here with a known loop, so
# that a check that could no longer see one fails too.
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
OBJDIR=$(dirname "$ARBITER")

# edges OBJ...: "A B SYMBOL" for each symbol A's object needs and B's
# defines (A != B); a file is named by its object's path less OBJDIR and .o.
# One nm for all: lines "OBJ: ADDR TYPE SYMBOL", or "OBJ: U SYMBOL".
edges() {
	nm -A -g "$@" | awk -v dir="$OBJDIR/" '
		{
			i = index($0, ":")
			f = substr($0, 1, i - 1)
			if (index(f, dir) == 1) f = substr(f, length(dir) + 1)
			sub(/\.o$/, "", f)
			m = split(substr($0, i + 1), w, " ")
			if (m == 2 && w[1] == "U") need[++n] = f " " w[2]
			else if (m == 3 && w[2] != "U") def[w[3]] = f
		}
		END {
			for (i = 1; i <= n; i++) {
				split(need[i], p, " ")
				if ((p[2] in def) && def[p[2]] != p[1])
					print p[1], def[p[2]], p[2]
			}
		}' | sort -u
}

# loops: reads edges, prints one line per strongly connected set of two files
# or more: its files, then one loop through the first of them (A -> B (sym)).
loops() {
	awk '
		{
			if (!(($1, $2) in e)) { e[$1, $2] = $3; adj[$1] = adj[$1] " " $2 }
			node[$1]; node[$2]
		}
		# the files reachable from a (a itself only through a loop)
		function reach(a,    q, h, t, k, m, nb, x) {
			delete seen
			h = 1; t = 0
			m = split(adj[a], nb, " ")
			for (k = 1; k <= m; k++) if (!(nb[k] in seen)) { seen[nb[k]]; q[++t] = nb[k] }
			while (h <= t) {
				x = q[h++]
				m = split(adj[x], nb, " ")
				for (k = 1; k <= m; k++) if (!(nb[k] in seen)) { seen[nb[k]]; q[++t] = nb[k] }
			}
		}
		# a shortest path from a back to a, as "a -> b (sym) -> ... -> a (sym)"
		function around(a,    q, h, t, k, m, nb, x, from, path, y) {
			delete from
			h = 1; t = 0
			q[++t] = a
			while (h <= t) {
				x = q[h++]
				m = split(adj[x], nb, " ")
				for (k = 1; k <= m; k++) {
					y = nb[k]
					if (y == a) {
						path = a " (" e[x, a] ")"
						while (x != a) { path = x " (" e[from[x], x] ") -> " path; x = from[x] }
						return a " -> " path
					}
					if (!(y in from)) { from[y] = x; q[++t] = y }
				}
			}
		}
		END {
			n = 0
			for (a in node) names[++n] = a
			# sorted, so that reports are stable
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && names[j - 1] > names[j]; j--) {
					x = names[j]; names[j] = names[j - 1]; names[j - 1] = x
				}
			for (i = 1; i <= n; i++) {
				reach(names[i])
				for (b in seen) r[names[i], b]
			}
			for (i = 1; i <= n; i++) {
				a = names[i]
				if (a in done || !((a, a) in r))
					continue
				set = a
				for (j = i + 1; j <= n; j++)
					if (((a, names[j]) in r) && ((names[j], a) in r)) {
						set = set ", " names[j]; done[names[j]]
					}
				print set ": " around(a)
			}
		}'
}

# the check on objects with known loops: a pair, and three files in a ring
# beside a file that only calls down
mkdir -p "$T/probe/x"
cat > "$T/probe/x/p.c" <<'EOF'
int q(void); int p(void) { return q(); }
EOF
cat > "$T/probe/x/q.c" <<'EOF'
int p(void); int q(void) { return p(); }
EOF
cat > "$T/probe/x/r1.c" <<'EOF'
extern const char *table[]; int r1(void) { return table[0] != 0; }
EOF
cat > "$T/probe/x/r2.c" <<'EOF'
int r3(void); const char *table[] = { "x" }; int r2(void) { return r3(); }
EOF
cat > "$T/probe/x/r3.c" <<'EOF'
int low(void); int r1(void); int r3(void) { return r1() + low(); }
EOF
cat > "$T/probe/x/low.c" <<'EOF'
int low(void) { return 1; }
EOF
probe_ok=true
for c in "$T"/probe/x/*.c; do cc -c -o "${c%.c}.o" "$c" || probe_ok=false; done
if $probe_ok; then
	found=$(OBJDIR=$T/probe; edges "$T"/probe/x/*.o | loops)
	pair='x/p, x/q: x/p -> x/q (q) -> x/p (p)'
	ring='x/r1, x/r2, x/r3: x/r1 -> x/r2 (table) -> x/r3 (r3) -> x/r1 (r1)'
	if [ "$found" = "$(printf '%s\n%s' "$pair" "$ring")" ]; then
		pass "the check finds a pair and a ring of three (through a table), and nothing more"
	else
		fail "the check misses known loops: $found"
	fi
else
	fail "cannot compile the check's own probe objects"
fi

for layer in engine data tui; do
	objs=() missing=()
	while IFS= read -r c; do
		o=$OBJDIR/${c%.c}.o
		if [ -f "$o" ]; then objs+=("$o"); else missing+=("$c"); fi
	done < <(find "$layer" -name '*.c' | sort)
	if [ ${#missing[@]} -gt 0 ] || [ ${#objs[@]} -eq 0 ]; then
		fail "$layer/: no objects in $OBJDIR for ${missing[*]:-any file} (build first)"
		continue
	fi
	graph=$(edges "${objs[@]}")
	if [ -z "$graph" ] && [ ${#objs[@]} -gt 1 ]; then
		fail "$layer/: no calls found between ${#objs[@]} objects (nm unusable?)"
		continue
	fi
	found=$(printf '%s\n' "$graph" | loops)
	if [ -z "$found" ]; then
		pass "$layer/: no files call each other in a circle (${#objs[@]} files)"
	else
		fail "$layer/: files call each other in a circle: $(printf '%s; ' "$found")"
		printf '  %s\n' "$found" >&2
	fi
done
