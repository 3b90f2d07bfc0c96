import { describe, expect, it } from 'vitest'
import { checkRunnerVersion, SUPPORTED_JEST, SUPPORTED_VITEST } from './version-guard.js'

describe('checkRunnerVersion', () => {
  it('accepts the supported lines from their oldest version on', () => {
    for (const version of ['4.0.10', '4.1.12', '5.0.0', '5.2.1-beta.1']) {
      expect(() =>
        checkRunnerVersion('vitest', version, SUPPORTED_VITEST, '@nsbox/vitest-plugin'),
      ).not.toThrow()
    }
    for (const version of ['29.7.0', '30.5.2']) {
      expect(() =>
        checkRunnerVersion('jest', version, SUPPORTED_JEST, '@nsbox/jest-env'),
      ).not.toThrow()
    }
  })

  it('refuses older and unknown versions, naming both and how to fix it', () => {
    for (const version of ['3.2.4', '4.0.9', '6.0.0', 'unknown']) {
      expect(() =>
        checkRunnerVersion('vitest', version, SUPPORTED_VITEST, '@nsbox/vitest-plugin'),
      ).toThrowError(
        expect.objectContaining({
          code: 'ERR_UNSUPPORTED_VERSION',
          found: version,
          message: `nsbox: @nsbox/vitest-plugin supports vitest 4.0.10 and newer 4.x, 5.x, and this project has vitest ${version}: its test files would not run in sandboxes. Install a supported version, such as \`npm install --save-dev vitest@5\`.`,
        }),
      )
    }
    expect(() =>
      checkRunnerVersion('jest', '28.1.3', SUPPORTED_JEST, '@nsbox/jest-env'),
    ).toThrowError(
      /supports jest 29\.7\.0 and newer 29\.x, 30\.x, and this project has jest 28\.1\.3/,
    )
  })
})
