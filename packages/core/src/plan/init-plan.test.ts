import { describe, expect, it } from 'vitest'
import { normalizeRunOptions } from '../options/normalize.js'
import { encodePlan, type HostFacts, planInit } from './init-plan.js'
import { planLauncher } from './launcher.js'
import { kernelAbiFor } from './syscalls.js'

const host: HostFacts = {
  uid: 1000,
  gid: 1000,
  abi: kernelAbiFor('x64'),
  tmpBinds: [{ path: '/tmp/project', isDirectory: true }],
  hasDevShm: true,
  env: { PATH: '/usr/bin' },
  filesystem: { readOnly: false, hide: [], rw: [], ro: [] },
}

describe('planInit', () => {
  it('orders the steps as the kernel needs them', () => {
    const spec = normalizeRunOptions('node', ['test.js'], { cwd: '/tmp/project', tmpSize: '64M' })
    const tokens = planInit(spec, host)
    expect(tokens.slice(0, 10)).toEqual([
      'nsbox-plan-1',
      '165',
      '170',
      '272',
      '157',
      '112',
      '14',
      '289',
      '231',
      String(0o10000000),
    ])
    expect(tokens.slice(10)).toEqual([
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
      'loopback',
      'hostname',
      'nsbox',
      'user',
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

  it('leaves lo down for network none and skips the uid drop for uid root', () => {
    const tokens = planInit(normalizeRunOptions('true', [], { network: 'none', uid: 'root' }), {
      ...host,
      tmpBinds: [],
    })
    expect(tokens).not.toContain('loopback')
    expect(tokens).not.toContain('user')
    expect(tokens).not.toContain('hold')
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
      },
    }).join(' ')
    expect(tokens).toContain(
      'hold /tmp/project hold /home/me/out hold /opt/tool tmpfs /tmp size=1073741824,mode=1777 bind 0 /tmp/project dir',
    )
    expect(tokens).toContain(
      'tmpfs /home/me size=64k,mode=755 bind 2 /opt/tool dir readonly /opt/tool bind 1 /home/me/out dir hidefile /run/user/1000/bus readonly-all 2 /tmp /dev/shm 1 /home/me/out loopback',
    )
  })
})
