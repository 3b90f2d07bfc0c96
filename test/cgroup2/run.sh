#!/usr/bin/env bash
# pnpm test:cgroup2: boots Debian's own kernel under QEMU (software emulation) with a
# pure cgroup v2 hierarchy, and runs the core's cgroup integration tests there: the same
# test files that run on the cgroup v1 host, choosing what to prove by what they detect.
#
# The host's root is shared read-only; the VM writes only to tmpfs and to a results
# directory. Needs root on the host to install QEMU, busybox and the kernel package.
#
# `run.sh systemd` (pnpm test:cgroup2:systemd) boots systemd as PID 1 instead, on the
# same root under a tmpfs overlay, and runs the tests as the test user from a login
# session that is not delegated: a developer's shell on a systemd host, no `nsbox
# delegate` (see inside-systemd.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache="$repo/.cache/cgroup2"
init=${1:-delegated}
case "$init" in
delegated)
  results="$cache/results"
  vm_timeout=${NSBOX_VM_TIMEOUT:-600}
  test_files=${NSBOX_VM_TESTS:-packages/core/test/limits.test.ts packages/core/test/spares.test.ts test/security/escape-limits.test.ts}
  ;;
systemd)
  results="$cache/results-systemd"
  vm_timeout=${NSBOX_VM_TIMEOUT:-900}
  test_files=${NSBOX_VM_TESTS:-packages/core/test/systemd-scope.test.ts packages/core/test/limits.test.ts packages/core/test/spares.test.ts test/security/escape-limits.test.ts}
  ;;
*)
  echo "test:cgroup2: unknown VM init \`$init\`; give none (a delegated subtree) or \`systemd\`" >&2
  exit 2
  ;;
esac
# NSBOX_VM_COMMAND runs that shell command in the VM instead of the tests (benchmarks).
vm_command=${NSBOX_VM_COMMAND:-}

fail() {
  echo "test:cgroup2: $*" >&2
  exit 2
}

step() { echo "--- cgroup2 VM: $*"; }

mkdir -p "$cache" "$results"

if [ "$init" = systemd ] && { [ ! -x /lib/systemd/systemd ] || [ ! -e /etc/pam.d/runuser-l ] ||
  ! grep -qs pam_systemd /etc/pam.d/common-session || [ ! -e /usr/lib/systemd/user/dbus.socket ]; }; then
  [ "$(id -u)" = 0 ] || fail "systemd, D-Bus and pam_systemd are missing; install them: sudo apt-get install systemd dbus dbus-user-session libpam-systemd"
  step "installing systemd dbus dbus-user-session libpam-systemd"
  # Installed for the VM, which boots them from this root; nothing is started here.
  policy=/usr/sbin/policy-rc.d
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && trap 'rm -f "$policy"' EXIT; }
  timeout 600 apt-get install -y -qq --no-install-recommends systemd dbus dbus-user-session libpam-systemd >/dev/null ||
    fail "apt-get could not install systemd dbus dbus-user-session libpam-systemd (is the Debian mirror reachable?)"
fi

if ! command -v qemu-system-x86_64 >/dev/null || [ ! -x /bin/busybox ]; then
  [ "$(id -u)" = 0 ] || fail "QEMU and busybox-static are missing; install them: sudo apt-get install qemu-system-x86 busybox-static"
  step "installing qemu-system-x86 and busybox-static"
  timeout 600 apt-get install -y -qq --no-install-recommends qemu-system-x86 busybox-static >/dev/null ||
    fail "apt-get could not install qemu-system-x86 busybox-static (is the Debian mirror reachable?)"
fi

# The kernel the current linux-image-amd64 points to, downloaded and unpacked once.
package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
[ -n "$package" ] || fail "apt-cache knows no linux-image-amd64; run apt-get update first"
kernel_dir="$cache/$package"
if [ ! -f "$kernel_dir/done" ]; then
  step "downloading $package"
  rm -rf "$kernel_dir" && mkdir -p "$kernel_dir"
  (cd "$kernel_dir" && timeout 300 apt-get download "$package" >/dev/null 2>&1) ||
    fail "could not download $package from the Debian mirror"
  dpkg-deb -x "$kernel_dir"/*.deb "$kernel_dir/root"
  rm -f "$kernel_dir"/*.deb
  touch "$kernel_dir/done"
fi
vmlinuz=$(ls "$kernel_dir"/root/boot/vmlinuz-*)
modules=$(ls -d "$kernel_dir"/root/lib/modules/*)

step "building the initramfs"
initramfs="$cache/initramfs"
rm -rf "$initramfs" && mkdir -p "$initramfs"/{bin,dev,proc,sys,modules,newroot}
cp /bin/busybox "$initramfs/bin/busybox"
# 9p over virtio, in dependency order (the init loads them in this order).
module_order="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p"
[ "$init" = systemd ] && module_order="$module_order overlay"
for module in $module_order; do
  found=$(find "$modules" -name "$module.ko*" | head -n 1)
  [ -n "$found" ] && cp "$found" "$initramfs/modules/"
done
cp "$repo/test/cgroup2/initramfs-init.sh" "$initramfs/init"
chmod +x "$initramfs/init"
(cd "$initramfs" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$cache/initramfs.gz"

# The users the tests run sandboxes as live in the host's /etc/passwd, which the VM shares.
for user in nsbox-test nsbox-test-nocg; do
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user" ||
    fail "cannot create the user $user (run as root)"
done

rm -f "$results"/*
if [ "$init" = systemd ]; then
  # Read in the VM from the results share, so a command may hold any characters.
  printf '%s' "$vm_command" >"$results/command"
  printf '%s\n' "$test_files" >"$results/tests"
  printf '%s\n' "${NSBOX_MUST_WORK:-0}" >"$results/must-work"
  boot="systemd.unit=nsbox-vm.target systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all nsbox_init=systemd"
else
  boot="nsbox_tests=\"$test_files\" nsbox_must_work=${NSBOX_MUST_WORK:-0} nsbox_command=\"$vm_command\""
fi
step "booting $package (TCG$([ "$init" = systemd ] && echo ', systemd as PID 1')), then running: ${vm_command:-$test_files}"
started=$(date +%s)
set +e
timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
  -accel tcg -m 3072 -smp 2 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$cache/initramfs.gz" \
  -append "console=ttyS0 quiet panic=-1 module_order=\"$module_order\" nsbox_repo=$repo $boot" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$results,mount_tag=results,security_model=none" \
  </dev/null >"$results/console.log" 2>&1
qemu_status=$?
set -e
elapsed=$(($(date +%s) - started))

[ -f "$results/tests.log" ] && cat "$results/tests.log"
if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
  tail -n 30 "$results/console.log" >&2
  fail "the VM did not finish within ${vm_timeout}s (NSBOX_VM_TIMEOUT)"
fi
if [ ! -f "$results/status" ]; then
  tail -n 30 "$results/console.log" >&2
  fail "the VM stopped before the tests reported (QEMU exit $qemu_status); console log above"
fi
status=$(cat "$results/status")
if [ "$init" = systemd ]; then
  . "$repo/test/cgroup2/check-systemd.sh"
  echo "test:cgroup2:systemd: $(cat "$results/kernel"), $(cat "$results/cgroup"): systemd started the tests ${booted}s after the kernel, the user manager was up at ${user_manager}s; tests exited $status after ${elapsed}s in all"
  exit "$status"
fi
if [ "$status" = 0 ] && [ -z "$vm_command" ] && ! grep -q '^0::/ci.slice/nsbox-host$' "$results/shell-cgroup"; then
  echo "test:cgroup2: nsbox never moved the delegated cgroup's processes into its nsbox-host leaf: $(cat "$results/shell-cgroup")" >&2
  status=1
fi
echo "test:cgroup2: $(cat "$results/kernel") with $(cat "$results/cgroup"): tests exited $status after ${elapsed}s"
exit "$status"
