#!/usr/bin/env bash
# pcsc.sh: a private pcscd with the vpcd virtual readers, and emulated cards.
#
#   pcsc.sh start DIR [--apdu] [--pinpad]
#                                       start pcscd in its own network and mount
#                                       namespace; prints the export line
#                                       (--pinpad: see below)
#   pcsc.sh insert DIR CARD_DIR [IDX]   start vcard.py on reader IDX (0 or 1)
#   pcsc.sh remove DIR [IDX]            stop that emulator (the card is pulled)
#   pcsc.sh eject DIR [IDX]             SIGUSR1: pull the card, keep the emulator
#   pcsc.sh reinsert DIR [IDX]          SIGUSR2: put it back
#   pcsc.sh env DIR                     print the export line again
#   pcsc.sh stop DIR                    stop everything started under DIR
#
# pcscd runs in a new network namespace that has only the loopback
# interface, so the vpcd driver's listening sockets (0.0.0.0:35963 and
# 35964) are reachable from that namespace only.  In a new mount namespace
# /run/pcscd is a bind mount of DIR/run, so the socket clients use is
# DIR/run/pcscd.comm (PCSCLITE_CSOCK_NAME) and a system pcscd, if any, is
# never touched.  Emulators join the network namespace with nsenter.  Every
# PID is recorded under DIR; stop kills those PIDs only.  Several DIRs can
# be used at the same time.  Needs root (unshare, mount, nsenter).
#
# --pinpad: the readers are "Virtual Pinpad" instead: pinpad/ifd-pinpad.c
# (built into DIR/libifdpinpad.so when needed) wraps the vpcd driver and adds
# PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT.  A
# reader.conf.d with that one entry (DIR/reader.conf.d) is bind-mounted over
# /etc/reader.conf.d in pcscd's mount namespace only, and pcscd gets
# EID_TEST_PINPAD_FILE=DIR/pinpad.txt: the PIN(s) "typed on the pinpad"
# (line 1 PIN, line 2 new PIN, line 3 confirmation; empty or "cancel" =
# Cancel, "timeout" = time out).

set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd -P)
PYTHON=${PYTHON:-/usr/bin/python3}
VPCD_PORT=35963

die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() { sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }

# alive PID: true if the process exists and is not a zombie.
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# stop_pid PID: SIGTERM, wait up to 5 s, then SIGKILL.
stop_pid() {
	local pid=$1 _
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	for _ in $(seq 20); do
		alive "$pid" || return 0
		sleep 0.1
	done
}

pcscd_pid() {
	local pid
	[ -f "$DIR/pcscd.pid" ] || die "no pcscd started in $DIR"
	pid=$(cat "$DIR/pcscd.pid")
	alive "$pid" || die "pcscd ($pid) of $DIR is not running"
	printf '%s\n' "$pid"
}

envline() { printf 'export PCSCLITE_CSOCK_NAME=%s/run/pcscd.comm\n' "$DIR"; }

# wait_state IDX STATE [SECONDS]: until the emulator says STATE, then until
# pcscd has polled the reader (it polls every 0.4 s).
wait_state() {
	local idx=$1 want=$2 n=$(( ${3:-10} * 20 )) _
	for _ in $(seq "$n"); do
		if [ "$(cat "$DIR/card$idx.state" 2>/dev/null)" = "$want" ]; then
			return 0
		fi
		alive "$(cat "$DIR/card$idx.pid")" || return 1
		sleep 0.05
	done
	return 1
}

# wait_reader IDX present|absent: ask pcscd itself (through libpcsclite).
wait_reader() {
	local idx=$1 want=$2 _
	for _ in $(seq 100); do
		if PCSCLITE_CSOCK_NAME=$DIR/run/pcscd.comm "$PYTHON" "$HERE/pcscio.py" status "$idx" "$want"; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

cmd=${1:-}
[ $# -ge 2 ] || usage
DIR=$2
case $cmd in
start)
	apdu=
	pinpad=
	for a in "${@:3}"; do
		case $a in
		--apdu) apdu=--apdu ;;
		--pinpad) pinpad=1 ;;
		*) usage ;;
		esac
	done
	command -v pcscd >/dev/null || [ -x /usr/sbin/pcscd ] || die "pcscd not installed"
	[ -r /etc/reader.conf.d/vpcd ] || die "vsmartcard-vpcd not installed (/etc/reader.conf.d/vpcd)"
	mkdir -p "$DIR/run"
	DIR=$(cd "$DIR" && pwd -P)
	if [ -f "$DIR/pcscd.pid" ] && alive "$(cat "$DIR/pcscd.pid")"; then
		die "pcscd already running for $DIR"
	fi
	confdir=
	if [ -n "$pinpad" ]; then
		# The handler, built when missing or older than its source.
		src=$HERE/pinpad/ifd-pinpad.c
		so=$DIR/libifdpinpad.so
		if [ ! -f "$so" ] || [ "$src" -nt "$so" ]; then
			# shellcheck disable=SC2046
			${CC:-cc} -shared -fPIC -O2 -Wall $(pkg-config --cflags libpcsclite) \
				-o "$so.tmp" "$src" -ldl || die "cannot build $src"
			mv "$so.tmp" "$so"
		fi
		# vpcd's own entry, with our name and library (DEVICENAME /dev/null:PORT
		# gives vpcd the TCP port of its first slot).
		mkdir -p "$DIR/reader.conf.d"
		rm -f "$DIR/reader.conf.d/"*
		devname=$(sed -n 's/^[[:space:]]*DEVICENAME[[:space:]]\{1,\}//p' /etc/reader.conf.d/vpcd | head -n1)
		[ -n "$devname" ] || devname=/dev/null:0x$(printf '%X' "$VPCD_PORT")
		{
			printf 'FRIENDLYNAME "Virtual Pinpad"\n'
			printf 'DEVICENAME   %s\n' "$devname"
			printf 'LIBPATH      %s\n' "$so"
			sed -n 's/^[[:space:]]*\(CHANNELID.*\)$/\1/p' /etc/reader.conf.d/vpcd | head -n1
		} >"$DIR/reader.conf.d/pinpad"
		[ -e "$DIR/pinpad.txt" ] || : >"$DIR/pinpad.txt"
		confdir=$DIR/reader.conf.d
	fi
	[ ${#DIR} -lt 90 ] || die "DIR path too long for a unix socket: $DIR"
	rm -f "$DIR/run/pcscd.comm" "$DIR/run/pcscd.pid"
	# Inside the namespaces: loopback up; /run/pcscd -> DIR/run.  If the host
	# has no /run/pcscd, a private tmpfs on /run provides the mount point
	# (this mount namespace is pcscd's alone).
	# With --pinpad, DIR/reader.conf.d hides /etc/reader.conf.d (in this mount
	# namespace only) and pcscd's environment names the pinpad file.
	# shellcheck disable=SC2016
	pinenv=()
	[ -n "$pinpad" ] && pinenv=("EID_TEST_PINPAD_FILE=$DIR/pinpad.txt")
	env ${pinenv[@]+"${pinenv[@]}"} PATH=/usr/sbin:/sbin:$PATH unshare --net --mount --propagation private sh -c '
		ip link set lo up || exit 1
		if [ ! -d /run/pcscd ]; then
			mount -t tmpfs -o mode=0755,size=1m pcsc-run /run || exit 1
			mkdir /run/pcscd || exit 1
		fi
		mount --bind "$1" /run/pcscd || exit 1
		if [ -n "$2" ]; then
			mount --bind "$2" /etc/reader.conf.d || exit 1
		fi
		shift 2
		exec pcscd --foreground "$@"' sh "$DIR/run" "$confdir" $apdu \
		>"$DIR/pcscd.log" 2>&1 </dev/null &
	pid=$!
	printf '%s\n' "$pid" >"$DIR/pcscd.pid"
	for _ in $(seq 100); do
		[ -S "$DIR/run/pcscd.comm" ] && break
		alive "$pid" || { sed 's/^/  | /' "$DIR/pcscd.log" >&2; die "pcscd exited"; }
		sleep 0.05
	done
	[ -S "$DIR/run/pcscd.comm" ] || die "pcscd did not create $DIR/run/pcscd.comm"
	# Wait until the vpcd driver listens (the readers exist).
	for _ in $(seq 100); do
		if PCSCLITE_CSOCK_NAME=$DIR/run/pcscd.comm "$PYTHON" "$HERE/pcscio.py" status 0 any; then
			break
		fi
		sleep 0.05
	done
	envline
	;;
insert)
	[ $# -ge 3 ] || usage
	card=$(cd "$3" && pwd -P) || die "no card directory $3"
	idx=${4:-0}
	[ -f "$card/card.json" ] || die "$card/card.json not found"
	DIR=$(cd "$DIR" && pwd -P)
	ppid_=$(pcscd_pid)
	if [ -f "$DIR/card$idx.pid" ] && alive "$(cat "$DIR/card$idx.pid")"; then
		die "reader $idx already has a card (pcsc.sh remove first)"
	fi
	rm -f "$DIR/card$idx.state"
	nsenter --net="/proc/$ppid_/ns/net" "$PYTHON" "$HERE/vcard.py" "$card" \
		--port $((VPCD_PORT + idx)) --log "$DIR/card$idx.log" --state "$DIR/card$idx.state" \
		>>"$DIR/card$idx.err" 2>&1 </dev/null &
	printf '%s\n' "$!" >"$DIR/card$idx.pid"
	wait_state "$idx" inserted || die "card $idx did not connect (see $DIR/card$idx.err)"
	wait_reader "$idx" present || die "pcscd does not see the card in reader $idx"
	;;
remove|eject|reinsert)
	idx=${3:-0}
	DIR=$(cd "$DIR" && pwd -P)
	[ -f "$DIR/card$idx.pid" ] || die "no card was inserted in reader $idx"
	pid=$(cat "$DIR/card$idx.pid")
	case $cmd in
	remove)
		stop_pid "$pid"
		rm -f "$DIR/card$idx.pid"
		wait_reader "$idx" absent || die "pcscd still sees a card in reader $idx"
		;;
	eject)
		alive "$pid" || die "emulator $pid is not running"
		kill -USR1 "$pid"
		wait_state "$idx" removed || die "card $idx did not go"
		wait_reader "$idx" absent || die "pcscd still sees a card in reader $idx"
		;;
	reinsert)
		alive "$pid" || die "emulator $pid is not running"
		kill -USR2 "$pid"
		wait_state "$idx" inserted || die "card $idx did not come back"
		wait_reader "$idx" present || die "pcscd does not see the card in reader $idx"
		;;
	esac
	;;
env)
	DIR=$(cd "$DIR" && pwd -P)
	envline
	;;
stop)
	[ -d "$DIR" ] || exit 0
	DIR=$(cd "$DIR" && pwd -P)
	for f in "$DIR"/card*.pid; do
		[ -f "$f" ] || continue
		stop_pid "$(cat "$f")"
		rm -f "$f"
	done
	if [ -f "$DIR/pcscd.pid" ]; then
		stop_pid "$(cat "$DIR/pcscd.pid")"
		rm -f "$DIR/pcscd.pid"
	fi
	;;
*)
	usage
	;;
esac
