import { UnsupportedVersionError } from '../errors.js'

/** The oldest version supported in each major line a test runner integration supports. */
export type SupportedVersions = Readonly<Record<number, readonly [number, number, number]>>

/** What `@nsbox/vitest-plugin` supports: Vitest 4.0.10 and newer 4.x, and 5.x. */
export const SUPPORTED_VITEST: SupportedVersions = { 4: [4, 0, 10], 5: [5, 0, 0] }

/** What `@nsbox/jest-env` supports: Jest 29.7 and newer 29.x, and 30.x. */
export const SUPPORTED_JEST: SupportedVersions = { 29: [29, 7, 0], 30: [30, 0, 0] }

/**
 * Throws `ERR_UNSUPPORTED_VERSION` unless `found` (a version such as `4.0.9`, prereleases
 * included) is one `supported` lists: an integration loaded by a runner it does not know
 * would run the files without sandboxes, or crash, and say nothing. Pure.
 *
 * @param packageName - The npm package, for the message: `vitest`, `jest`.
 */
export function checkRunnerVersion(
  packageName: string,
  found: string,
  supported: SupportedVersions,
  integration: string,
): void {
  const parts = /^(\d+)\.(\d+)\.(\d+)/.exec(found)?.slice(1).map(Number)
  const [major = -1, minor = 0, patch = 0] = parts ?? []
  const oldest = supported[major]
  const isSupported =
    oldest !== undefined && (minor > oldest[1] || (minor === oldest[1] && patch >= oldest[2]))
  if (isSupported) return
  const lines = Object.values(supported).map(([lineMajor, lineMinor, linePatch]) =>
    lineMinor === 0 && linePatch === 0
      ? `${lineMajor}.x`
      : `${lineMajor}.${lineMinor}.${linePatch} and newer ${lineMajor}.x`,
  )
  const list = lines.join(', ')
  throw new UnsupportedVersionError(
    packageName,
    found,
    list,
    `nsbox: ${integration} supports ${packageName} ${list}, and this project has ${packageName} ${found}: its test files would not run in sandboxes. Install a supported version, such as \`npm install --save-dev ${packageName}@${Object.keys(supported).at(-1)}\`.`,
  )
}
