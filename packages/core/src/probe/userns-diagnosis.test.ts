import { describe, expect, it } from 'vitest'
import {
  diagnoseUsernsFailure,
  isUsernsFailure,
  type UsernsHostSettings,
} from './userns-diagnosis.js'

const plainHost: UsernsHostSettings = {
  apparmorRestrict: undefined,
  unprivilegedUsernsClone: undefined,
  maxUserNamespaces: 96365,
  inContainer: false,
}

describe('diagnoseUsernsFailure', () => {
  it('Ubuntu 24.04: AppArmor refuses the uid map', () => {
    const diagnosis = diagnoseUsernsFailure(
      'unshare: write failed /proc/self/uid_map: Operation not permitted',
      { ...plainHost, apparmorRestrict: 1 },
    )
    expect(diagnosis.blockedBy).toBe('apparmor')
    expect(diagnosis.fix).toMatch(/^sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0/)
  })

  it('Debian 10: unprivileged_userns_clone=0', () => {
    const diagnosis = diagnoseUsernsFailure('unshare: unshare failed: Operation not permitted', {
      ...plainHost,
      unprivilegedUsernsClone: 0,
    })
    expect(diagnosis).toMatchObject({
      blockedBy: 'unprivileged_userns_clone',
      fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1',
    })
  })

  it('max_user_namespaces=0 shows as ENOSPC', () => {
    const diagnosis = diagnoseUsernsFailure(
      'unshare: unshare failed: No space left on device',
      plainHost,
    )
    expect(diagnosis).toMatchObject({
      blockedBy: 'max_user_namespaces',
      fix: 'sudo sysctl -w user.max_user_namespaces=15000',
    })
  })

  it('a container profile refusing unshare or mounting /proc', () => {
    const diagnosis = diagnoseUsernsFailure('unshare: mount /proc failed: Permission denied', {
      ...plainHost,
      inContainer: true,
    })
    expect(diagnosis.blockedBy).toBe('container')
    expect(diagnosis.fix).toContain('--security-opt seccomp=unconfined')
  })

  it('anything else: says so and quotes unshare', () => {
    const diagnosis = diagnoseUsernsFailure('unshare: something new: Invalid argument', plainHost)
    expect(diagnosis).toMatchObject({
      blockedBy: 'unknown',
      message: 'user namespaces could not be created (unshare: something new: Invalid argument)',
    })
  })
})

describe('isUsernsFailure', () => {
  it('recognises unshare failing to create or set up the namespaces', () => {
    expect(isUsernsFailure('unshare: unshare failed: Operation not permitted\n')).toBe(true)
    expect(
      isUsernsFailure('unshare: write failed /proc/self/uid_map: Operation not permitted'),
    ).toBe(true)
    expect(isUsernsFailure('unshare: mount /proc failed: Permission denied')).toBe(true)
  })

  it('not its other failures, nor output that only mentions unshare', () => {
    expect(isUsernsFailure('unshare: fork failed: Resource temporarily unavailable')).toBe(false)
    expect(isUsernsFailure('unshare: sigprocmask unblock failed: Invalid argument')).toBe(false)
    expect(isUsernsFailure('Error: unshare is a word in my output')).toBe(false)
  })
})
