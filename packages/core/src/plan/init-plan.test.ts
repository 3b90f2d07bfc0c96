import { describe, expect, it } from 'vitest'
import { normalizeRunOptions } from '../options/normalize.js'
import { encodePlan, type HostFacts, planInit } from './init-plan.js'
import { planLauncher } from './launcher.js'
import { kernelAbiFor } from './syscalls.js'

const host: HostFacts = {
  uid: 1000,
  gid: 1000,
  arch: 'x64',
  abi: kernelAbiFor('x64'),
  tmpBinds: [{ path: '/tmp/project', isDirectory: true }],
  hasDevShm: true,
  devNodes: ['/dev/null', '/dev/tty'],
  ipcFd: null,
  env: { PATH: '/usr/bin' },
  filesystem: { readOnly: false, hide: [], rw: [], ro: [], keep: [], minimalDev: false },
}

describe('planInit', () => {
  it('orders the steps as the kernel needs them', () => {
    const spec = normalizeRunOptions('node', ['test.js'], { cwd: '/tmp/project', tmpSize: '64M' })
    const tokens = planInit(spec, host)
    expect(tokens.slice(0, 14)).toEqual([
      'nsbox-plan-2',
      '165',
      '170',
      '272',
      '157',
      '112',
      '14',
      '289',
      '231',
      '250',
      '72',
      '436',
      String(0o10000000),
      String(0o400000),
    ])
    expect(tokens.slice(14)).toEqual([
      'hold',
      '/tmp/project',
      'tmpfs',
      '/tmp',
      `size=${64 * 1024 ** 2},mode=1777`,
      'bind',
      '0',
      '/tmp/project',
      'dir',
      'tmpfs',
      '/dev/shm',
      `size=${64 * 1024 ** 2},mode=1777`,
      'readonly-tree',
      '/sys/fs/cgroup',
      'loopback',
      'hostname',
      'nsbox',
      'user',
      'self',
      '1000',
      '1000',
      'cwd',
      '/tmp/project',
      'env',
      'PATH=/usr/bin',
      'exec',
      'node',
      'test.js',
    ])
  })

  it('leaves lo down for network none and maps root to root for uid root', () => {
    const tokens = planInit(normalizeRunOptions('true', [], { network: 'none', uid: 'root' }), {
      ...host,
      tmpBinds: [],
    })
    expect(tokens).not.toContain('loopback')
    expect(tokens.join(' ')).toContain('user root 0 0')
    expect(tokens).not.toContain('hold')
  })

  it("makes the host's kernel settings read-only for a root caller, but its own namespaces'", () => {
    const tokens = planInit(normalizeRunOptions('true', [], { cwd: '/tmp/project' }), {
      ...host,
      uid: 0,
      gid: 0,
    }).join(' ')
    expect(tokens).toContain('hold /tmp/project hold /proc/sys/user hold /proc/sys/net tmpfs')
    expect(tokens).toContain(
      'readonly-bind /proc/sys readonly-bind /proc/sysrq-trigger readonly-bind /proc/irq readonly-bind /proc/bus bind 1 /proc/sys/user dir bind 2 /proc/sys/net dir readonly-tree',
    )
    const hostNetwork = planInit(normalizeRunOptions('true', [], { network: 'host' }), {
      ...host,
      uid: 0,
    })
    expect(hostNetwork).not.toContain('/proc/sys/net')
    expect(planInit(normalizeRunOptions('true', [], {}), host)).not.toContain('readonly-bind')
  })

  it('keeps the IPC descriptor open and installs a seccomp filter when asked', () => {
    const tokens = planInit(normalizeRunOptions('true', [], { seccomp: true }), {
      ...host,
      ipcFd: 5,
    })
    expect(tokens.join(' ')).toContain('keep-fd 5 seccomp ')
    const filter = tokens[tokens.indexOf('seccomp') + 1] ?? ''
    expect(filter).toMatch(/^[0-9a-f]+$/)
    expect(filter.length % 16).toBe(0) // 8 bytes per instruction
    expect(planInit(normalizeRunOptions('true', [], {}), host)).not.toContain('seccomp')
  })

  it('builds a minimal /dev from the host nodes it holds before the tmpfs covers them', () => {
    const tokens = planInit(normalizeRunOptions('true', [], { cwd: '/tmp/project' }), {
      ...host,
      filesystem: { ...host.filesystem, minimalDev: true, readOnly: true },
    }).join(' ')
    expect(tokens).toContain('hold /tmp/project hold /dev/null hold /dev/tty tmpfs /tmp')
    expect(tokens).toContain(
      'tmpfs /dev size=64k,mode=755 bind 1 /dev/null file bind 2 /dev/tty file devpts /dev/pts symlink pts/ptmx /dev/ptmx',
    )
    expect(tokens).toContain('mkdir /dev/shm tmpfs /dev/shm')
    expect(tokens).toContain('readonly-all 4 /tmp /dev /dev/pts /dev/shm 0')
  })

  it('makes the cgroup filesystems read-only once: with the rest under readOnly, else alone', () => {
    const readOnly = planInit(normalizeRunOptions('true', [], {}), {
      ...host,
      filesystem: { ...host.filesystem, readOnly: true },
    })
    expect(readOnly).not.toContain('readonly-tree')
    expect(readOnly).toContain('readonly-all')
    const writable = planInit(normalizeRunOptions('true', [], {}), host)
    expect(writable.join(' ')).toContain('readonly-tree /sys/fs/cgroup')
    expect(writable).not.toContain('readonly-all')
    // An rw path that readonly-all leaves writable never takes the cgroups with it.
    const cgroupsRw = planInit(normalizeRunOptions('true', [], {}), {
      ...host,
      filesystem: {
        ...host.filesystem,
        readOnly: true,
        rw: [{ path: '/sys/fs', isDirectory: true }],
      },
    })
    expect(cgroupsRw.join(' ')).toContain('readonly-tree /sys/fs/cgroup readonly-all')
  })
})

describe('encodePlan', () => {
  it('frames NUL-terminated tokens behind their byte length', () => {
    expect(encodePlan(['a', 'é', '']).toString('utf8')).toBe('6\na\0é\0\0')
  })
})

describe('planLauncher', () => {
  const tools = {
    unshare: '/usr/bin/unshare',
    perl: '/usr/bin/perl',
    initScript: '/pkg/dist/inside/init.pl',
  }

  it('creates every namespace and ties the PID namespace to unshare', () => {
    expect(planLauncher('loopback', tools)).toEqual({
      file: '/usr/bin/unshare',
      args: [
        '--user',
        '--map-root-user',
        '--pid',
        '--fork',
        '--kill-child',
        '--mount-proc',
        '--uts',
        '--ipc',
        '--net',
        '/usr/bin/perl',
        '/pkg/dist/inside/init.pl',
      ],
    })
  })

  it('hands the init the cgroup.procs descriptors it enters before the plan', () => {
    expect(planLauncher('loopback', tools, [6, 7]).args.slice(-3)).toEqual([
      '/pkg/dist/inside/init.pl',
      '6',
      '7',
    ])
  })

  it('keeps the host network for network host only', () => {
    expect(planLauncher('none', tools).args).toContain('--net')
    expect(planLauncher('host', tools).args).not.toContain('--net')
  })
})

describe('kernelAbiFor', () => {
  it('knows x64 and the generic table of arm64', () => {
    expect(kernelAbiFor('x64').mount).toBe(165)
    expect(kernelAbiFor('arm64').mount).toBe(40)
  })

  it('refuses an architecture it has no table for', () => {
    expect(() => kernelAbiFor('ppc64')).toThrowError(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM' }),
    )
  })

  it('mounts outer paths first: rw inside a hidden directory, a hidden file inside rw', () => {
    const spec = normalizeRunOptions('sh', [], { cwd: '/tmp/project' })
    const tokens = planInit(spec, {
      ...host,
      filesystem: {
        readOnly: false,
        hide: [
          { path: '/srv/app/.env', isDirectory: false },
          { path: '/home/me', isDirectory: true },
        ],
        rw: [
          { path: '/srv/app', isDirectory: true },
          { path: '/home/me/out', isDirectory: true },
        ],
        ro: [],
        keep: [],
        minimalDev: false,
      },
    }).join(' ')
    expect(tokens).toContain(
      'tmpfs /home/me size=64k,mode=755 bind 1 /srv/app dir hidefile /srv/app/.env bind 2 /home/me/out dir',
    )
  })

  it('hides, binds and makes read-only in an order that keeps what rw names writable', () => {
    const spec = normalizeRunOptions('sh', [], { cwd: '/tmp/project', readOnly: true })
    const rw = { path: '/home/me/out', isDirectory: true }
    const ro = { path: '/opt/tool', isDirectory: true }
    const tokens = planInit(spec, {
      ...host,
      filesystem: {
        readOnly: true,
        hide: [
          { path: '/home/me', isDirectory: true },
          { path: '/run/user/1000/bus', isDirectory: false },
        ],
        rw: [rw],
        ro: [ro],
        keep: [{ path: '/var/tmp/work', isDirectory: true }],
        minimalDev: false,
      },
    }).join(' ')
    expect(tokens).toContain(
      'hold /tmp/project hold /home/me/out hold /opt/tool hold /var/tmp/work tmpfs /tmp size=1073741824,mode=1777 bind 0 /tmp/project dir',
    )
    expect(tokens).toContain(
      'tmpfs /home/me size=64k,mode=755 bind 2 /opt/tool dir readonly /opt/tool bind 1 /home/me/out dir bind 3 /var/tmp/work dir hidefile /run/user/1000/bus readonly-all 2 /tmp /dev/shm 1 /home/me/out loopback',
    )
  })
})
