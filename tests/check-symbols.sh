#!/usr/bin/env bash
# The shared library exports exactly the checked-in list of public symbols,
# and carries the versioned SONAME.
set -euo pipefail
lib="$EID_TEST_BUILDDIR/libeid/.libs/libeid.so"
expected="$EID_TEST_SRCDIR/tests/exported-symbols.txt"
[ -f "$lib" ] || { echo "no $lib"; exit 1; }
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u)
if ! diff -u "$expected" <(printf '%s\n' "$actual"); then
	echo "FAIL: exported symbols differ from tests/exported-symbols.txt (update it when the API changes on purpose)"
	exit 1
fi
bad=$(printf '%s\n' "$actual" | grep -v '^eid_[a-z]' || true)
[ -z "$bad" ] || { echo "FAIL: non-public symbols exported: $bad"; exit 1; }
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
case "$soname" in
libeid.so.[0-9]*) echo "SONAME $soname" ;;
*) echo "FAIL: SONAME is '$soname'"; exit 1 ;;
esac
echo "ok: $(printf '%s\n' "$actual" | wc -l) public symbols"
