#!/usr/bin/env bash
# servers.sh: the test PKI's TSA, OCSP responder and CRL service (servers.py)
# in the background.
#
#   servers.sh start DIR PKI_DIR [PORT]  start servers.py for PKI_DIR on
#                                        127.0.0.1:PORT; print the eval lines
#   servers.sh env DIR                   print the eval lines again
#   servers.sh stop DIR                  stop the server started under DIR
#   servers.sh free-port                 print a free loopback TCP port
#
# PORT defaults to the port of the PKI's BASE_URL when that is
# http://127.0.0.1:N (the URLs in its certificates then reach this server),
# else to a free port.  DIR (created if needed) receives servers.pid, the
# access log access.log, the server's stderr server.err and its private work
# directory work/.  stop signals only the PID recorded there, after checking
# that it is still that server.  Environment: EID_TEST_SERVERS_MAX_TIME
# (seconds, default 3600, 0 = none) ends a forgotten server;
# EID_TEST_SERVERS_WATCH_PID ends it when that process is gone;
# EID_TEST_SERVERS_SLOW the delay of the /slow modes (default 10 s).
# Exit status of start: 0, 1 on error, 3 when PORT is in use.

set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd -P)
PYTHON=${PYTHON:-/usr/bin/python3}

die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit "${2:-1}"; }
usage() { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }

# state PID: the process state letter from /proc, empty when gone.
state() {
	[ -r "/proc/$1/stat" ] || return 0
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true
}
# starttime PID: field 22 of /proc/PID/stat (clock ticks since boot).
starttime() {
	[ -r "/proc/$1/stat" ] || return 0
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20 || true
}
alive() {
	local st
	st=$(state "$1")
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# ours PID START: the process is the servers.py we started (not a reused PID).
ours() {
	alive "$1" || return 1
	[ "$(starttime "$1")" = "$2" ] || return 1
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'servers\.py'
}

# stop_pid PID START: SIGTERM, wait up to 5 s, then SIGKILL.
stop_pid() {
	local pid=$1 start=$2 _
	ours "$pid" "$start" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		alive "$pid" || return 0
		sleep 0.1
	done
	if ours "$pid" "$start"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	for _ in $(seq 20); do
		alive "$pid" || return 0
		sleep 0.1
	done
	printf '%s: warning: %s did not stop\n' "$PROG" "$pid" >&2
}

free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# pki_port PKI_DIR: the port of BASE_URL in the PKI's CA configuration, if
# it is http://127.0.0.1:N.
pki_port() {
	sed -n 's|^BASE_URL *= *http://127\.0\.0\.1:\([0-9][0-9]*\)\(/.*\)\{0,1\}$|\1|p' \
		"$1/int-ca/ca.cnf" 2>/dev/null | head -n 1
}

# probe PORT: GET /health answers 200.
probe() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1/health" 2>/dev/null
	else
		"$PYTHON" -c 'import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/health" % sys.argv[1], timeout=2).read()' "$1" \
			>/dev/null 2>&1
	fi
}

envlines() {
	local port
	port=$(cat "$DIR/port" 2>/dev/null) || die "no server started in $DIR"
	printf 'EID_TEST_TSA_URL=http://127.0.0.1:%s/tsa\n' "$port"
	printf 'EID_TEST_PKI_URL=http://127.0.0.1:%s\n' "$port"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
free-port)
	[ $# -eq 0 ] || usage
	free_port
	;;
start)
	{ [ $# -ge 2 ] && [ $# -le 3 ]; } || usage
	DIR=$1 PKI=$2 PORT=${3:-}
	[ -f "$PKI/.complete" ] || die "$PKI is not a finished make-pki.sh output (no .complete)"
	PKI=$(cd "$PKI" && pwd -P)
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd -P)
	if [ -f "$DIR/servers.pid" ]; then
		read -r opid ostart <"$DIR/servers.pid" || true
		if ours "${opid:-0}" "${ostart:-}"; then
			die "a server started under $DIR is still running (PID $opid)"
		fi
		rm -f "$DIR/servers.pid"
	fi
	want=$(pki_port "$PKI")
	if [ -z "$PORT" ]; then
		PORT=${want:-0}
	elif [ -n "$want" ] && [ "$want" != "$PORT" ] && [ "$PORT" != 0 ]; then
		printf '%s: warning: the certificates of %s point to port %s, not %s\n' \
			"$PROG" "$PKI" "$want" "$PORT" >&2
	fi
	case $PORT in *[!0-9]* | '') die "bad port: $PORT" ;; esac
	args=(--port "$PORT" --log "$DIR/access.log" --workdir "$DIR/work"
		--slow "${EID_TEST_SERVERS_SLOW:-10}")
	maxt=${EID_TEST_SERVERS_MAX_TIME:-3600}
	[ "$maxt" = 0 ] || args+=(--max-time "$maxt")
	[ -z "${EID_TEST_SERVERS_WATCH_PID:-}" ] || args+=(--watch-pid "$EID_TEST_SERVERS_WATCH_PID")
	rm -f "$DIR/port" "$DIR/server.out"
	# The subshell execs the server, so $! is the server's own PID.  Its
	# output goes to files, so that $(servers.sh start ...) returns.
	( exec "$PYTHON" "$HERE/servers.py" "$PKI" "${args[@]}" \
		</dev/null >"$DIR/server.out" 2>"$DIR/server.err" ) &
	pid=$!
	start=$(starttime "$pid")
	printf '%s %s\n' "$pid" "$start" >"$DIR/servers.pid"
	got=
	for _ in $(seq 150); do
		if ! alive "$pid"; then
			rm -f "$DIR/servers.pid"
			if grep -q 'Address already in use' "$DIR/server.err" 2>/dev/null; then
				die "port $PORT is in use" 3
			fi
			sed 's/^/    /' "$DIR/server.err" >&2
			die "servers.py exited at start (see $DIR/server.err)"
		fi
		got=$(head -n 1 "$DIR/server.out" 2>/dev/null || true)
		if [ -n "$got" ] && probe "$got"; then
			break
		fi
		got=
		sleep 0.1
	done
	if [ -z "$got" ]; then
		stop_pid "$pid" "$start"
		rm -f "$DIR/servers.pid"
		die "servers.py did not answer within 15 s (see $DIR/server.err)"
	fi
	printf '%s\n' "$got" >"$DIR/port"
	envlines
	;;
env)
	[ $# -eq 1 ] || usage
	DIR=$1
	envlines
	;;
stop)
	[ $# -eq 1 ] || usage
	DIR=$1
	[ -f "$DIR/servers.pid" ] || exit 0
	read -r pid start <"$DIR/servers.pid" || true
	[ -n "${pid:-}" ] && stop_pid "$pid" "${start:-}"
	rm -f "$DIR/servers.pid"
	;;
*)
	usage
	;;
esac
