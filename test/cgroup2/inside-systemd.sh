#!/bin/sh
# Runs as root in nsbox-vm.service, with systemd as PID 1 of the cgroup v2 VM (the
# unified hierarchy only). Starts the test user's systemd manager, then logs that user in
# the way a login does (runuser -l: pam_systemd opens a session, whose scope is not
# delegated) and runs the tests from that session's shell, with no `nsbox delegate`.
# Afterwards it records what the run left in the user's slice.
results=/mnt/nsbox-results
user=nsbox-test
finish() {
  echo "$1" >"$results/status"
  sync
  systemctl poweroff --force --force # nothing else is left to stop
}
uptime_seconds() { cut -d' ' -f1 /proc/uptime; }
uptime_seconds >"$results/booted"
uname -r >"$results/kernel"
echo "cgroup v2 under systemd $(systemctl --version | awk '{ print $2; exit }') (controllers: $(cat /sys/fs/cgroup/cgroup.controllers))" >"$results/cgroup"
# A hybrid host would mount cgroup v1 hierarchies too: this leg is about v2 alone.
if grep -q ' cgroup ' /proc/mounts; then
  grep ' cgroup ' /proc/mounts >&2
  finish 3
fi

uid=$(id -u "$user") || finish 4
export XDG_RUNTIME_DIR="/run/user/$uid"
# Linger keeps the user manager up between sessions, as on a machine the user logged into.
loginctl enable-linger "$user" && systemctl start "user@$uid.service" || finish 4
# The user's D-Bus daemon starts on first use; start it now, so that it is no leftover.
runuser -u "$user" -- env XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" systemctl --user start dbus.socket dbus.service || finish 4
uptime_seconds >"$results/user-manager-ready"

slice="/sys/fs/cgroup/user.slice/user-$uid.slice"
find "$slice" -type d | sort >/tmp/cgroups-before
ps -o pid=,args= -u "$user" | sort >/tmp/processes-before

# What the session's shell sees, for the harness to check (and people to read).
session=/tmp/nsbox-vm-session
mkdir -p "$session" && chown "$user:" "$session"
runuser -l "$user" -c "sh '$NSBOX_REPO/test/cgroup2/session.sh' '$NSBOX_REPO' '$session'" >"$results/tests.log" 2>&1
status=$?
uptime_seconds >"$results/tests-done"
for file in "$session"/*; do cp "$file" "$results/session-$(basename "$file")"; done

# Nothing may be left: no cgroup (sandbox, helper scope or session scope) and no process
# of the user but its manager and D-Bus daemon. The session's scope goes once it is empty.
for attempt in $(seq 100); do
  find "$slice" -type d | sort >/tmp/cgroups-after
  ps -o pid=,args= -u "$user" | sort >/tmp/processes-after
  {
    comm -13 /tmp/cgroups-before /tmp/cgroups-after | sed 's/^/cgroup: /'
    comm -13 /tmp/processes-before /tmp/processes-after | sed 's/^/process: /'
  } >"$results/leftovers"
  [ -s "$results/leftovers" ] || break
  sleep 0.1
done
{
  echo "# systemctl --user list-units --all --type=scope,slice"
  runuser -u "$user" -- env XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" systemctl --user list-units --all --no-pager --type=scope,slice
  echo "# the user's slice"
  cat /tmp/cgroups-after
} >"$results/user-units"
finish $status
