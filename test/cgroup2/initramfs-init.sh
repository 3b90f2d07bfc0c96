#!/bin/busybox sh
# PID 1 of the cgroup v2 VM's initramfs: mounts the host's root (9p, read-only) and
# switches to it; inside.sh carries on from there. switch_root, not chroot: unshare
# --user fails with EPERM inside a chroot.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# In dependency order; a second and third pass catch a kernel whose dependencies differ.
for pass in 1 2 3; do
  for module in $module_order; do
    [ -f "/modules/$module.ko" ] && insmod "/modules/$module.ko" 2>/dev/null && rm "/modules/$module.ko"
  done
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot ||
  { echo "cannot mount the host root"; poweroff -f; }
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=755 tmpfs /newroot/run
mkdir -p /newroot/tmp/results
mount -t 9p -o trans=virtio,version=9p2000.L results /newroot/tmp/results
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/sh "$nsbox_repo/test/cgroup2/inside.sh"
