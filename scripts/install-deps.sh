#!/usr/bin/env bash
# Install the Debian packages libeid needs to build and test (Debian 12).
# Does nothing when they are all present already.
set -euo pipefail

PACKAGES=(
	# build
	autoconf automake libtool libtool-bin pkg-config make gcc g++ binutils
	libssl-dev libp11-kit-dev libjson-c-dev check
	# later layers (cards, XML, PDF, ASiC) and their tests
	libp11-dev libengine-pkcs11-openssl libpcsclite-dev pcscd vsmartcard-vpcd
	libxml2-dev libxmlsec1-dev xmlsec1 libzip-dev zlib1g-dev
	# test components and independent verifiers
	softhsm2 opensc opensc-pkcs11 p11-kit p11-kit-modules openssl pcsc-tools curl iproute2 util-linux
	poppler-utils qpdf libnss3-tools python3 python3-cryptography python3-cffi python3-pytest python3-dev python3-setuptools python3-venv
	libreoffice-writer-nogui fonts-dejavu-core
	# sanitizer runtime
	libclang-rt-14-dev
)

# npm packages of the interop tests (independent PDF and XAdES signers and verifiers), pinned by
# package-lock.json.
install_npm() {
	local dir
	dir=$(cd "$(dirname "$0")/../tests/interop/node" && pwd)
	if ! command -v npm >/dev/null; then
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
	fi
	if [ ! -d "$dir/node_modules/@signpdf/signpdf" ] || [ ! -d "$dir/node_modules/xadesjs" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
		echo "install-deps: npm packages for the interop tests"
		(cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
	fi
}

SUDO=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
	SUDO=sudo
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
else
	echo "install-deps: installing ${missing[*]}"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
fi
install_npm
