#!/usr/bin/env bash
# Each public header compiles alone as C99 with -pedantic -Werror, and as C++.
set -euo pipefail
cc=${CC:-cc}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in "$EID_TEST_SRCDIR"/include/eid/*.h "$EID_TEST_SRCDIR"/include/eid/sys/*.h "$EID_TEST_BUILDDIR"/include/eid/version.h; do
	rel=${h#"$EID_TEST_SRCDIR"/include/}
	rel=${rel#"$EID_TEST_BUILDDIR"/include/}
	printf '#include <%s>\nint eid_header_test_dummy;\n' "$rel" > "$tmp/t.c"
	if ! $cc -std=c99 -pedantic -Werror -Wall -Wextra -fsyntax-only \
		-I"$EID_TEST_SRCDIR/include" -I"$EID_TEST_BUILDDIR/include" "$tmp/t.c"; then
		echo "FAIL: $rel does not compile alone as C99"
		fail=1
	fi
	if command -v c++ >/dev/null && ! c++ -x c++ -std=c++11 -pedantic -Werror -Wall -fsyntax-only \
		-I"$EID_TEST_SRCDIR/include" -I"$EID_TEST_BUILDDIR/include" "$tmp/t.c"; then
		echo "FAIL: $rel does not compile alone as C++"
		fail=1
	fi
done
[ $fail = 0 ] && echo "ok: every public header compiles alone"
exit $fail
