import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MissingToolError, UnsupportedPlatformError } from '../errors.js'
import type { LauncherTools } from '../plan/launcher.js'

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/** The oldest util-linux `unshare` with every flag nsbox passes (`--kill-child` came in 2.32). */
export const MIN_UTIL_LINUX = [2, 32] as const

const INSTALL_COMMANDS = {
  debian: 'apt-get install util-linux perl-base',
  fedora: 'dnf install util-linux-core perl-interpreter',
  alpine: 'apk add util-linux-misc perl',
} as const

/**
 * The command that installs util-linux's `unshare` and Perl on this distribution (from
 * `/etc/os-release`), with `sudo` unless root; all three families when it is unknown.
 */
export function installHint(
  osRelease: string = readOsRelease(),
  isRoot = process.getuid?.() === 0,
): string {
  const ids = /^(?:ID|ID_LIKE)=(.*)$/gm
  const family = [...osRelease.matchAll(ids)]
    .flatMap((match) => (match[1] ?? '').replaceAll('"', '').split(' '))
    .map((id) => (id === 'ubuntu' ? 'debian' : ['rhel', 'centos'].includes(id) ? 'fedora' : id))
    .find((id): id is keyof typeof INSTALL_COMMANDS => id in INSTALL_COMMANDS)
  const sudo = isRoot ? '' : 'sudo '
  if (family) return `${sudo}${INSTALL_COMMANDS[family]}`
  return Object.entries(INSTALL_COMMANDS)
    .map(
      ([name, command]) =>
        `${sudo}${command} (${name === 'debian' ? 'Debian, Ubuntu' : name === 'fedora' ? 'Fedora, RHEL' : 'Alpine'})`,
    )
    .join(', or ')
}

/**
 * Why an `unshare` cannot start nsbox's sandboxes, from what `unshare --version` printed
 * (`null` when it could not run); `null` when it can. Pure.
 */
export function unshareProblem(versionOutput: string | null): string | null {
  const match = /util-linux (\d+)\.(\d+)/.exec(versionOutput ?? '')
  if (!match) {
    const what = /busybox/i.test(versionOutput ?? '') ? "BusyBox's" : "not util-linux's"
    return `it is ${what}, which lacks \`--kill-child\` and \`--mount-proc\``
  }
  const [major, minor] = [Number(match[1]), Number(match[2])]
  const [minMajor, minMinor] = MIN_UTIL_LINUX
  if (major > minMajor || (major === minMajor && minor >= minMinor)) return null
  return `it is util-linux ${major}.${minor}, older than ${minMajor}.${minMinor}, which added \`--kill-child\``
}

function readOsRelease(): string {
  try {
    return readFileSync('/etc/os-release', 'utf8')
  } catch {
    return ''
  }
}

/** Finds an executable on `PATH` or in the usual system directories. */
export function findExecutable(
  name: string,
  searchPath = process.env.PATH ?? '',
): string | undefined {
  const dirs = [...searchPath.split(path.delimiter).filter(Boolean), ...SYSTEM_DIRS]
  for (const dir of dirs) {
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here; keep looking
    }
  }
  return undefined
}

/** Where the in-sandbox init script ships, next to the compiled launcher. */
export function initScriptPath(): string {
  return fileURLToPath(new URL('../inside/init.pl', import.meta.url))
}

let cachedTools: LauncherTools | undefined

/**
 * The programs a launch needs, found once per process; throws `ERR_UNSUPPORTED_PLATFORM`
 * off Linux, and `ERR_MISSING_TOOL` naming the package.
 */
export function resolveLauncherTools(): LauncherTools {
  requireLinux()
  if (cachedTools) return cachedTools
  const unshare = requireTool('unshare')
  const version = versionOf(unshare)
  const problem = version === undefined ? null : unshareProblem(version)
  if (problem) {
    throw new MissingToolError(
      'unshare',
      `nsbox: the \`unshare\` at ${unshare} cannot start sandboxes: ${problem}. Install util-linux's: ${installHint()}.`,
    )
  }
  const perl = requireTool('perl')
  const initScript = initScriptPath()
  if (!existsSync(initScript)) {
    throw new MissingToolError(
      'init.pl',
      `nsbox's sandbox init script is missing at ${initScript}. Reinstall @nsbox/core (or run \`pnpm build\` in a checkout).`,
    )
  }
  const tools = { unshare, perl, initScript }
  // Judged once it could be asked; until then the launch itself reports what ran out.
  if (version !== undefined) cachedTools = tools
  return tools
}

function requireTool(name: 'unshare' | 'perl'): string {
  const found = findExecutable(name)
  if (!found) {
    const why =
      name === 'perl'
        ? 'nsbox sets up each sandbox with a small Perl script'
        : 'it comes with util-linux'
    throw new MissingToolError(
      name,
      `nsbox: \`${name}\` was not found on PATH; ${why}. Install it with: ${installHint()}.`,
    )
  }
  return found
}

/**
 * What `unshare --version` prints first, `null` when it refuses the flag, or `undefined`
 * when it could not be started at all just now (out of processes or descriptors): that
 * says nothing about which `unshare` it is.
 */
export function versionOf(unshare: string): string | null | undefined {
  try {
    const output = execFileSync(unshare, ['--version'], {
      encoding: 'utf8',
      env: {},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return output.split('\n')[0] ?? null
  } catch (error) {
    if (typeof (error as NodeJS.ErrnoException).code === 'string') return undefined
    // BusyBox prints its banner on stderr when it refuses --version.
    return String((error as { stderr?: string }).stderr ?? '') || null
  }
}

/** Throws `ERR_UNSUPPORTED_PLATFORM` unless this is Linux, whose namespaces and cgroups nsbox uses. */
export function requireLinux(platform: NodeJS.Platform = process.platform): void {
  if (platform === 'linux') return
  throw new UnsupportedPlatformError(
    `nsbox: sandboxes need Linux (user namespaces and cgroups), and this is ${platform}. Run the sandboxed tests on Linux: in CI, in a Linux VM or container (see docs/ci.md), or under WSL 2 on Windows.`,
  )
}
