#!/bin/sh
# man_warnings.sh PAGE -- the man page renders without a single groff
# warning ("cannot adjust line", bad macro, ...), at the line length man(1)
# uses on an 80-column terminal (78n) and on narrower and wider ones.
# Any output on stderr fails the test.
page=$1
rc=0
for ll in 78 65 100; do
	out=$(groff -ww -man -Tutf8 -rLL=${ll}n -z "$page" 2>&1)
	if [ -n "$out" ]; then
		printf 'line length %sn:\n%s\n' "$ll" "$out"
		rc=1
	fi
done
exit $rc
