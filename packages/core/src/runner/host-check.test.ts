import { describe, expect, it } from 'vitest'
import { hostProblem, unsupportedHostError } from './host-check.js'

const HOW_TO_WARN = "pass sandbox({ onUnsupported: 'warn' })"

describe('hostProblem', () => {
  it('is null where sandboxes start', () => {
    expect(hostProblem({ canSandbox: true, userNamespaces: { works: true } })).toBeNull()
  })

  it("takes probe's cause and fix, without its prefix", () => {
    const problem = hostProblem({
      canSandbox: false,
      userNamespaces: {
        works: false,
        blockedBy: 'max_user_namespaces',
        message: 'nsbox: user namespaces are off (user.max_user_namespaces=0)',
        fix: 'sudo sysctl -w user.max_user_namespaces=15000',
      },
    })
    expect(problem).toEqual({
      message: 'user namespaces are off (user.max_user_namespaces=0)',
      blockedBy: 'max_user_namespaces',
      fix: 'sudo sysctl -w user.max_user_namespaces=15000',
    })
  })
})

describe('unsupportedHostError', () => {
  it('is ERR_UNSUPPORTED_PLATFORM off Linux, with the way to run unsandboxed', () => {
    const error = unsupportedHostError(
      {
        message: 'sandboxes need Linux, and this is darwin.',
        blockedBy: 'unsupported-platform',
        fix: null,
      },
      HOW_TO_WARN,
    )
    expect(error.code).toBe('ERR_UNSUPPORTED_PLATFORM')
    expect(error.message).toBe(
      `nsbox: sandboxes need Linux, and this is darwin.\nOr ${HOW_TO_WARN} to run the test files unsandboxed.`,
    )
  })

  it('is ERR_USERNS_BLOCKED with the fix when user namespaces are blocked, once', () => {
    const fix = 'sudo sysctl -w user.max_user_namespaces=15000'
    const error = unsupportedHostError(
      { message: 'user namespaces are off.', blockedBy: 'max_user_namespaces', fix },
      HOW_TO_WARN,
    )
    expect(error).toMatchObject({
      code: 'ERR_USERNS_BLOCKED',
      blockedBy: 'max_user_namespaces',
      fix,
    })
    expect(error.message.split(fix)).toHaveLength(2)
    expect(error.message).toContain(HOW_TO_WARN)
  })

  it('is ERR_SETUP_FAILED for any other cause', () => {
    const error = unsupportedHostError(
      { message: 'sandboxes cannot start on this host.', blockedBy: null, fix: null },
      HOW_TO_WARN,
    )
    expect(error.code).toBe('ERR_SETUP_FAILED')
  })
})
