# Sourced by run.sh after the systemd VM stopped: what its results must show besides the
# tests' exit status. Sets `status`, `booted` and `user_manager`.
booted=$(cat "$results/booted" 2>/dev/null || echo '?')
user_manager=$(cat "$results/user-manager-ready" 2>/dev/null || echo '?')
echo "test:cgroup2:systemd: the session's cgroup: $(cat "$results/session-cgroup" 2>/dev/null)"
grep -h 'limits enforced by' "$results/session-doctor" 2>/dev/null | sed 's/^ */test:cgroup2:systemd: nsbox doctor in the session: /'
if [ -z "$vm_command" ]; then
  uid=$(id -u nsbox-test)
  if ! grep -Eq "^0::/user.slice/user-$uid.slice/session-c?[0-9]+\.scope$" "$results/session-cgroup" 2>/dev/null; then
    echo "test:cgroup2:systemd: the tests did not run in a login session's scope" >&2
    status=1
  fi
  if [ -s "$results/leftovers" ]; then
    echo "test:cgroup2:systemd: the run left this behind in the user's slice:" >&2
    cat "$results/leftovers" >&2
    status=1
  fi
  # From a session that is not delegated, nsbox must still get cgroup v2 limits.
  if ! grep -q 'limits enforced by: memory: cgroup2, pids: cgroup2' "$results/session-doctor" 2>/dev/null; then
    echo "test:cgroup2:systemd: from a login session, the test user's sandboxes get no cgroup v2 limits (nsbox doctor above)" >&2
    status=1
  fi
fi
