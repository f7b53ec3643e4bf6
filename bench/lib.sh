# Shared by the bench scripts: messages, and the BUILD_DIR argument.
# Source it after `set -euo pipefail`; it sets PROG, SRCDIR and BUILD_DIR.

export LC_ALL=C
PROG=${0##*/}
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
say() {
    printf '%s: %s\n' "$PROG" "$*" >&2
}

[ $# -le 1 ] || { printf 'usage: %s [BUILD_DIR]\n' "$PROG" >&2; exit 2; }
BUILD_DIR=${1:-./build}
[ -d "$BUILD_DIR" ] || die "build folder $BUILD_DIR not found"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd -P)
