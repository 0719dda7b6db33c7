#!/bin/sh
# docs/synopsis.sh ARBITER: the SYNOPSIS section of docs/arbiter.1, written
# from the command table as `arbiter --help` and `arbiter COMMAND --help`
# print it, so that the man page cannot drift from the commands. Run it after
# changing a command's usage and paste its output over the section;
# tests/cli/manpage.sh checks that the two agree.
A=${1:-./arbiter}
roff() {        # a usage string as roff: options bold, values italic
	printf '%s\n' "$1" | sed -e 's/\\/\\e/g' \
		-e 's/\([A-Z][A-Z]*\)/\\fI\1\\fR/g' \
		-e 's/--\([a-z][a-z-]*\)/\\fB\\-\\-\1\\fR/g' \
		-e 's/\([[ |]\)-\([] |]\)/\1\\-\2/g' -e 's/\([[ |]\)-$/\1\\-/' \
		-e 's/^-\([a-z]\)/\\-\1/' -e 's/\([[ |]\)-\([a-z]\)/\1\\-\2/g'
}
echo '.SH SYNOPSIS'
echo '.B arbiter'
printf '%s\n' '[\fB\-\-home\fR \fIDIR\fR] [\fB\-\-server\fR \fIURL\fR] \fIcommand\fR [\fIargs\fR]'
"$A" --help | sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' | while read -r name; do
	usage=$("$A" $name --help | sed -n "s/^usage: arbiter $name *//p")
	echo '.br'
	echo ".B arbiter $name"
	[ -n "$usage" ] && roff "$usage"
done
