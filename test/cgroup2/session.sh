#!/bin/sh
# Runs as the test user in the login session inside-systemd.sh opened: the shell of a
# user on a systemd host, in a session scope that is not delegated, with the session's
# XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS. Runs the harness's command or tests.
repo=$1
session=$2
results=/mnt/nsbox-results
cat /proc/self/cgroup >"$session/cgroup"
env | grep -E '^(XDG_|DBUS_SESSION_BUS_ADDRESS=)' | sort >"$session/env"
cd "$repo" || exit 5
NSBOX_MUST_WORK=$(cat "$results/must-work")
export NSBOX_MUST_WORK NSBOX_TEST_SANDBOX_COUNT=300
if [ -s "$results/command" ]; then
  sh "$results/command"
else
  # Under TCG a test runs several times slower than on the host: generous timeouts.
  vitest() {
    node node_modules/vitest/vitest.mjs run --configLoader runner --project integration \
      --testTimeout=240000 --hookTimeout=240000 "$@"
  }
  # The systemd scope's own tests start from this shell's undelegated scope. The others
  # then run as under a delegated subtree: Vitest's main process asks for its scope in
  # the global setup, as the pool would, and every test process starts inside it.
  scope_tests=$(tr ' ' '\n' <"$results/tests" | grep 'systemd-scope' | tr '\n' ' ')
  other_tests=$(tr ' ' '\n' <"$results/tests" | grep -v 'systemd-scope' | tr '\n' ' ')
  status=0
  # shellcheck disable=SC2086 # the lists of test files are meant to split
  [ -z "$scope_tests" ] || vitest $scope_tests || status=$?
  # shellcheck disable=SC2086
  [ -z "${other_tests% }" ] || NSBOX_TEST_ENTER_SCOPE=1 vitest $other_tests || status=$?
  (exit $status)
fi
status=$?
# Which limits this user's sandboxes get from this session, in the doctor's words.
node packages/core/dist/cli/main.js doctor >"$session/doctor" 2>&1
exit $status
