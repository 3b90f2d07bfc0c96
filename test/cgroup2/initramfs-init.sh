#!/bin/busybox sh
# PID 1 of the cgroup v2 VM's initramfs: mounts the host's root (9p, read-only) and
# switches to it; inside.sh carries on from there. switch_root, not chroot: unshare
# --user fails with EPERM inside a chroot. With nsbox_init=systemd, the root is instead
# that share under an overlay with a tmpfs upper layer (systemd writes to /etc and /var),
# and systemd becomes PID 1: see systemd/nsbox-vm.service.
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
if [ "$nsbox_init" = systemd ]; then
  mkdir -p /lower /rw
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
    { echo "cannot mount the host root"; poweroff -f; }
  mount -t tmpfs -o mode=755 tmpfs /rw
  mkdir -p /rw/upper /rw/work
  mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
    { echo "cannot mount the overlay root"; poweroff -f; }
  results=/newroot/mnt/nsbox-results
  mkdir -p "$results"
  mount -t 9p -o trans=virtio,version=9p2000.L results "$results"
  units="/newroot$nsbox_repo/test/cgroup2/systemd"
  cp "$units/nsbox-vm.target" "$units/nsbox-vm.service" /newroot/etc/systemd/system/
  # The shared root may be a container image: systemd would then take itself for a
  # container's init and ignore the kernel command line, systemd.unit= among it.
  rm -f /newroot/.dockerenv /newroot/run/.containerenv
  ln -sf nsbox-vm.target /newroot/etc/systemd/system/default.target
  echo "NSBOX_REPO=$nsbox_repo" >/newroot/etc/nsbox-vm.env
  mount --move /dev /newroot/dev
  umount /proc /sys
  exec switch_root /newroot /lib/systemd/systemd
fi
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot ||
  { echo "cannot mount the host root"; poweroff -f; }
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=755 tmpfs /newroot/run
mkdir -p /newroot/tmp/results
mount -t 9p -o trans=virtio,version=9p2000.L results /newroot/tmp/results
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/sh "$nsbox_repo/test/cgroup2/inside.sh"
