import { describe, expect, it } from 'vitest'
import { installHint, requireLinux, unshareProblem } from './tools.js'

describe('requireLinux', () => {
  it('refuses every other platform with ERR_UNSUPPORTED_PLATFORM and says where to run', () => {
    for (const platform of ['darwin', 'win32', 'freebsd'] as const) {
      expect(() => requireLinux(platform)).toThrowError(
        expect.objectContaining({
          code: 'ERR_UNSUPPORTED_PLATFORM',
          message: expect.stringContaining(
            `and this is ${platform}. Run the sandboxed tests on Linux`,
          ),
        }),
      )
    }
  })

  it('lets Linux through', () => {
    expect(() => requireLinux('linux')).not.toThrow()
  })
})

describe('unshareProblem', () => {
  it('accepts util-linux 2.32 and newer, and names what is wrong with anything else', () => {
    expect(unshareProblem('unshare from util-linux 2.38.1')).toBeNull()
    expect(unshareProblem('unshare from util-linux 2.32')).toBeNull()
    expect(unshareProblem('unshare from util-linux 2.31.1')).toMatch(
      /util-linux 2\.31, older than 2\.32, which added `--kill-child`/,
    )
    expect(unshareProblem('BusyBox v1.36.1 (2024-06-10) multi-call binary.')).toMatch(/BusyBox's/)
    expect(unshareProblem(null)).toMatch(/not util-linux's/)
  })
})

describe('installHint', () => {
  it('names the package manager of the distribution, with sudo unless root', () => {
    expect(installHint('ID=alpine\nVERSION_ID=3.20\n', false)).toBe(
      'sudo apk add util-linux-misc perl',
    )
    expect(installHint('ID="rhel"\nID_LIKE="fedora"\n', true)).toBe(
      'dnf install util-linux-core perl-interpreter',
    )
    expect(installHint('ID=ubuntu\nID_LIKE=debian\n', false)).toBe(
      'sudo apt-get install util-linux perl-base',
    )
    expect(installHint('', true)).toMatch(
      /^apt-get install .* \(Debian, Ubuntu\), or dnf .*, or apk add/,
    )
  })
})
