#!/usr/bin/env bash
# run-tests.sh [BUILDDIR [PYTEST-ARGS...]]
#
# Build and test the Python bindings against the libeid of a build tree
# (configured and built with make; not installed):
#   1. copy the package to BUILDDIR/bindings/python/src (the source tree is
#      never written to),
#   2. make a virtual environment BUILDDIR/bindings/python/venv with the
#      system's site packages (cffi, setuptools, pytest from the
#      distribution) and pip-install the package into it, offline
#      (--no-build-isolation --no-index), linked to BUILDDIR's libeid,
#   3. run pytest on bindings/python/tests with that interpreter.
#
# BUILDDIR (when the first argument is not a folder) is $EID_TEST_BUILDDIR,
# which make check sets.
# Environment: PYTHON (default /usr/bin/python3), EID_TEST_SRCDIR (the
# libeid source tree; default: two levels up from here), SOFTHSM2_MODULE.
# Exit status: pytest's; 77 (skipped, for automake) when Python, cffi,
# pytest or venv are missing.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ $# -ge 1 ] && [ -d "$1" ]; then
	B=$1
	shift
else
	B=${EID_TEST_BUILDDIR:-}
fi
[ -n "$B" ] || { sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
B=$(cd "$B" && pwd -P)
PYTHON=${PYTHON:-/usr/bin/python3}
W=$B/bindings/python

if ! "$PYTHON" -c 'import cffi, pytest, venv, setuptools' 2>/dev/null; then
	echo "SKIP: $PYTHON needs cffi, pytest, setuptools and venv (python3-cffi python3-pytest python3-venv)"
	exit 77
fi
[ -d "$B/libeid/.libs" ] || { echo "run-tests.sh: $B is not a built libeid tree (run make)" >&2; exit 2; }

mkdir -p "$W"
rm -rf "$W/src"
mkdir -p "$W/src"
cp -r "$HERE/eid" "$HERE/build_ffi.py" "$HERE/setup.py" "$HERE/pyproject.toml" "$HERE/README.md" "$W/src/"
find "$W/src" -name __pycache__ -prune -exec rm -rf {} +
rm -f "$W/src"/eid/_eid_cffi*

if [ ! -x "$W/venv/bin/python" ]; then
	"$PYTHON" -m venv --system-site-packages "$W/venv"
fi
EID_BUILD_DIR=$B "$W/venv/bin/python" -m pip install --quiet --no-build-isolation --no-index --no-deps \
	--force-reinstall --root-user-action=ignore --disable-pip-version-check "$W/src" >"$W/pip.log" 2>&1 || {
	cat "$W/pip.log" >&2
	echo "run-tests.sh: pip install failed (log above, also in $W/pip.log)" >&2
	exit 1
}

export EID_TEST_SRCDIR=${EID_TEST_SRCDIR:-$(cd "$HERE/../.." && pwd -P)}
export PYTHONDONTWRITEBYTECODE=1
# The emulated cards' private pcscd needs a short socket path.
base=$W/tmp
if [ ${#base} -gt 50 ]; then
	base=$(mktemp -d /tmp/eidpy.XXXXXX)
	trap 'rm -rf "$base"' EXIT
fi
cd "$W"   # not the source folder: 'import eid' must find the installed package
"$W/venv/bin/python" -m pytest -p no:cacheprovider --basetemp="$base" -ra "$HERE/tests" "$@"
