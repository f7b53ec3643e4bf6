#!/usr/bin/env bash
# `make install DESTDIR=...` installs a usable library: a program built with
# pkg-config against the installed headers links and runs, and the man pages are there.
# Usage: tests/check-install.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -C "$build" install DESTDIR="$dest" >/dev/null
prefix=$(sed -n 's/^prefix=//p' "$build/libeid.pc")
libdir=$(sed -n 's/^libdir=//p' "$build/libeid.pc" | sed "s|\${exec_prefix}|$prefix|")
root=$dest$prefix
n=0
for f in include/eid/eid.h include/eid/version.h include/eid/sys/signer.h bin/eid-sign bin/eid-verify \
	share/man/man1/eid-sign.1 share/man/man1/eid-verify.1; do
	[ -e "$root/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
	n=$((n + 1))
done
ls "$dest$libdir"/libeid.so.[0-9]* >/dev/null
cat > "$dest/use.c" <<'C'
#include <eid/eid.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	eid_trust *t = NULL;
	int ok = strcmp(eid_version(), EID_VERSION_STRING) == 0 && eid_trust_new(&t) == EID_OK;
	eid_trust_free(t);
	printf("libeid %s: %s\n", eid_version(), ok ? "usable" : "broken");
	return ok ? 0 : 1;
}
C
flags=$(PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags --libs libeid)
cc -std=c99 -Wall -Werror "$dest/use.c" $flags -o "$dest/use"
LD_LIBRARY_PATH="$dest$libdir" "$dest/use"
echo "ok: $n installed files checked; a pkg-config consumer builds and runs"
