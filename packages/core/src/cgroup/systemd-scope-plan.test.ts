import { describe, expect, it } from 'vitest'
import {
  decideSystemdScope,
  isInScope,
  type SystemdScopeFacts,
  scopeUnitName,
  startScopeArgs,
} from './systemd-scope-plan.js'

const laptop: SystemdScopeFacts = {
  isTurnedOff: false,
  uid: 1000,
  hasUserManager: true,
  hasUserBus: true,
  busctl: '/usr/bin/busctl',
}

describe('decideSystemdScope', () => {
  it('uses the scope for a user with a running user manager and bus', () => {
    expect(decideSystemdScope(laptop)).toEqual({ use: true, busctl: '/usr/bin/busctl' })
  })

  it('stays as today, with nothing more to say, without a user manager', () => {
    expect(decideSystemdScope({ ...laptop, hasUserManager: false })).toEqual({
      use: false,
      why: null,
    })
  })

  it('never asks for root, which may write every cgroup', () => {
    expect(decideSystemdScope({ ...laptop, uid: 0 })).toEqual({ use: false, why: null })
  })

  it('is turned off by NSBOX_SYSTEMD_SCOPE=0, and says so', () => {
    const decision = decideSystemdScope({ ...laptop, isTurnedOff: true })
    expect(decision).toEqual({ use: false, why: expect.stringContaining('NSBOX_SYSTEMD_SCOPE=0') })
  })

  it('says what is missing when the manager runs but cannot be called', () => {
    expect(decideSystemdScope({ ...laptop, hasUserBus: false })).toEqual({
      use: false,
      why: expect.stringContaining('dbus-user-session'),
    })
    expect(decideSystemdScope({ ...laptop, busctl: null })).toEqual({
      use: false,
      why: expect.stringContaining('busctl'),
    })
  })
})

describe('startScopeArgs', () => {
  it('asks for one delegated, garbage-collected scope holding the process', () => {
    const args = startScopeArgs('nsbox-42-x.scope', 42)
    expect(args.slice(0, 9)).toEqual([
      '--user',
      '--timeout=10',
      'call',
      'org.freedesktop.systemd1',
      '/org/freedesktop/systemd1',
      'org.freedesktop.systemd1.Manager',
      'StartTransientUnit',
      'ssa(sv)a(sa(sv))',
      'nsbox-42-x.scope',
    ])
    const properties = args.slice(11, -1).join(' ')
    expect(args[10]).toBe('4')
    expect(properties).toContain('PIDs au 1 42')
    expect(properties).toContain('Delegate b true')
    expect(properties).toContain('CollectMode s inactive-or-failed')
    expect(args.at(-1)).toBe('0') // no auxiliary units
  })
})

describe('scopeUnitName and isInScope', () => {
  it('names a scope unit per process and recognizes it in /proc/self/cgroup', () => {
    const unit = scopeUnitName(42, 1_700_000_000_000)
    expect(unit).toMatch(/^nsbox-42-[0-9a-z]+\.scope$/)
    const base = '/user.slice/user-1000.slice/user@1000.service/app.slice'
    expect(isInScope(`0::${base}/${unit}\n`, unit)).toBe(true)
    expect(isInScope(`0::${base}/${unit}/nsbox-host\n`, unit)).toBe(true)
    expect(isInScope('0::/user.slice/user-1000.slice/session-3.scope\n', unit)).toBe(false)
    expect(isInScope(`0::${base}/${unit}x.scope\n`, unit)).toBe(false)
    expect(isInScope(`4:memory:${base}/${unit}\n`, unit)).toBe(false)
  })
})
