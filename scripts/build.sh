#!/usr/bin/env bash
# Configure and build libeid in a build folder (default: ./build).
# Usage: scripts/build.sh [BUILD_DIR] [configure options...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
shift || true
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ] \
	|| [ tests/Makefile.inc -nt Makefile.in ] || [ tests/unit/unit.mk -nt Makefile.in ]; then
	autoreconf -fi >/dev/null
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$top/configure" -nt config.status ]; then
	"$top/configure" -q --enable-werror "$@"
fi
make -j"$(nproc)" >/dev/null
echo "build: $build"
