#!/usr/bin/env bash
# The whole test suite: install dependencies, build, run every test (unit,
# integration against SoftHSM2, interop with openssl), then build again with
# AddressSanitizer and UndefinedBehaviorSanitizer and run the unit tests,
# then the libFuzzer harnesses for a while, then `make distcheck`.  Set EID_SKIP_DISTCHECK=1 to leave the last step out.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
# the npm interop packages live in the source tree; make distcheck's copy uses them too
export EID_TEST_NODE_DIR=$top/tests/interop/node

pass=0
fail=0
count() { # add up the automake test-suite.log summary of a build
	local log=$1 p f
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(( $(sed -n 's/^# FAIL: *//p' "$log" | head -1) + $(sed -n 's/^# ERROR: *//p' "$log" | head -1) ))
	pass=$((pass + ${p:-0}))
	fail=$((fail + f))
}

echo "== build and test"
bash scripts/build.sh "$top/build"
status=0
make -C build -j"$(nproc)" check || status=$?
[ -f build/test-suite.log ] && count build/test-suite.log
[ $status = 0 ] || { cat build/test-suite.log | tail -60; echo "$pass passed, $fail failed"; exit 1; }

echo "== make install DESTDIR=... and a pkg-config consumer"
if bash tests/check-install.sh build; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "$pass passed, $fail failed"; exit 1; fi

echo "== unit tests again under -fsanitize=address,undefined"
bash scripts/build.sh "$top/build-asan" --enable-sanitizers
unit_tests=$(cd build-asan && make -s print-unit-tests)
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -C build-asan -j"$(nproc)" check TESTS="$unit_tests" || status=$?
[ -f build-asan/test-suite.log ] && count build-asan/test-suite.log
[ $status = 0 ] || { tail -60 build-asan/test-suite.log; echo "$pass passed, $fail failed"; exit 1; }

echo "== libFuzzer harnesses (ASan+UBSan), ${EID_FUZZ_SECONDS:-30}s each"
if bash tests/fuzz/run.sh build "${EID_FUZZ_SECONDS:-30}"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "$pass passed, $fail failed"; exit 1; fi

if [ "${EID_SKIP_DISTCHECK:-0}" != 1 ]; then
	echo "== make distcheck"
	if make -C build distcheck >build/distcheck.log 2>&1; then pass=$((pass + 1)); else
		fail=$((fail + 1)); tail -40 build/distcheck.log; echo "$pass passed, $fail failed"; exit 1
	fi
	grep -E '^(=+|[a-z0-9.-]+ archives ready)' build/distcheck.log | tail -3
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
