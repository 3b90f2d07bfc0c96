import { describe, expect, it } from 'vitest'
import { locateCurrentCgroups, parseCgroupMemberships, parseCgroupMounts } from './layout.js'

const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
50 23 0:40 / /home/a\\040b rw - ext4 /dev/sda1 rw`

const HYBRID_CGROUP = `9:name=systemd:/user.slice
8:pids:/user.slice/user-1000.slice
4:memory:/user.slice/user-1000.slice/session-2.scope
1:cpu,cpuacct:/user.slice
0::/user.slice/user-1000.slice/session-2.scope`

describe('parseCgroupMounts', () => {
  it('reads v1 hierarchies with their controllers and the v2 mount', () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO)
    expect(mounts).toContainEqual({
      mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
      root: '/',
      version: 1,
      controllers: ['cpu', 'cpuacct'],
    })
    expect(mounts).toContainEqual({
      mountPoint: '/sys/fs/cgroup/unified',
      root: '/',
      version: 2,
      controllers: [],
    })
    expect(mounts.some((mount) => mount.mountPoint.startsWith('/home'))).toBe(false)
  })
})

describe('locateCurrentCgroups', () => {
  it('joins each controller to its hierarchy directory on a hybrid host', () => {
    const current = locateCurrentCgroups(
      parseCgroupMounts(HYBRID_MOUNTINFO),
      parseCgroupMemberships(HYBRID_CGROUP),
    )
    expect(current.unified).toBe(
      '/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-2.scope',
    )
    expect(current.legacy.memory).toEqual({
      mountPoint: '/sys/fs/cgroup/memory',
      dir: '/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope',
    })
    expect(current.legacy.cpu?.dir).toBe('/sys/fs/cgroup/cpu,cpuacct/user.slice')
    expect(current.legacy.cpuacct?.dir).toBe('/sys/fs/cgroup/cpu,cpuacct/user.slice')
  })

  it('finds the v2 directory of a pure cgroup v2 host', () => {
    const current = locateCurrentCgroups(
      parseCgroupMounts('29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw'),
      parseCgroupMemberships('0::/user.slice/user-1000.slice/user@1000.service/app.slice\n'),
    )
    expect(current).toEqual({
      unified: '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice',
      unifiedMountPoint: '/sys/fs/cgroup',
      legacy: {},
    })
  })

  it('maps a bind-mounted subtree, and skips cgroups outside it', () => {
    const mounts = parseCgroupMounts(
      '29 23 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
    )
    expect(locateCurrentCgroups(mounts, parseCgroupMemberships('0::/docker/abc/x')).unified).toBe(
      '/sys/fs/cgroup/x',
    )
    expect(locateCurrentCgroups(mounts, parseCgroupMemberships('0::/other')).unified).toBeNull()
  })
})
