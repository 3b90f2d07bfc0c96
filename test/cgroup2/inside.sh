#!/bin/sh
# Runs as PID 1 of the cgroup v2 VM, on the host's root (read-only). Mounts a pure
# cgroup v2 hierarchy, delegates a subtree to the test user the way systemd's
# Delegate=yes does, moves this shell into it, and runs the tests from there: nsbox must
# itself move the processes into a leaf before it may enable controllers (cgroup v2's
# no-internal-processes rule).
results=/tmp/results
finish() {
  echo "$1" >"$results/status"
  sync
  echo o >/proc/sysrq-trigger # power off: nothing else is left to stop
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || finish 3
mkdir -p /dev/shm /dev/pts && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
ip link set lo up 2>/dev/null
hostname nsbox-cgroup2-vm
uname -r >"$results/kernel"
echo "cgroup v2 (controllers: $(cat /sys/fs/cgroup/cgroup.controllers))" >"$results/cgroup"

echo "+memory +pids +cpu" >/sys/fs/cgroup/cgroup.subtree_control || finish 4
delegated=/sys/fs/cgroup/ci.slice
mkdir "$delegated"
for file in "$delegated" "$delegated/cgroup.procs" "$delegated/cgroup.subtree_control" "$delegated/cgroup.threads"; do
  chown nsbox-test:nsbox-test "$file"
done
echo $$ >"$delegated/cgroup.procs"

cd "$nsbox_repo" || finish 5
export HOME=/tmp PATH=/usr/local/bin:/usr/bin:/bin NSBOX_MUST_WORK="$nsbox_must_work"
export NSBOX_TEST_SANDBOX_COUNT=300
# shellcheck disable=SC2086 # the list of test files is meant to split
if [ -n "$nsbox_command" ]; then
  setpriv --reuid nsbox-test --regid nsbox-test --init-groups sh -c "$nsbox_command" >"$results/tests.log" 2>&1
else
  # The checkout is read-only here: load the config without writing a bundled copy.
  # Under TCG a test runs several times slower than on the host: generous timeouts.
  node node_modules/vitest/vitest.mjs run --configLoader runner --project integration \
    --testTimeout=240000 --hookTimeout=240000 $nsbox_tests >"$results/tests.log" 2>&1
fi
status=$?
# nsbox had to move this shell, like every process of the delegated cgroup, into a leaf.
cat /proc/self/cgroup >"$results/shell-cgroup"
finish $status
