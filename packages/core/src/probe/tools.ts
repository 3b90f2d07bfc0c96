import { accessSync, constants, existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MissingToolError } from '../errors.js'
import type { LauncherTools } from '../plan/launcher.js'

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

const INSTALL_HINTS: Record<string, string> = {
  unshare:
    'It comes with util-linux. Install it with: sudo apt-get install util-linux (Debian, Ubuntu), sudo dnf install util-linux-core (Fedora, RHEL), sudo apk add util-linux-misc (Alpine).',
  perl: 'nsbox sets up each sandbox with a small Perl script. Install Perl with: sudo apt-get install perl-base (Debian, Ubuntu), sudo dnf install perl-interpreter (Fedora, RHEL), sudo apk add perl (Alpine).',
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

/** The programs a launch needs, found once per process; throws `ERR_MISSING_TOOL` naming the package. */
export function resolveLauncherTools(): LauncherTools {
  if (cachedTools) return cachedTools
  const unshare = requireTool('unshare')
  const perl = requireTool('perl')
  const initScript = initScriptPath()
  if (!existsSync(initScript)) {
    throw new MissingToolError(
      'init.pl',
      `nsbox's sandbox init script is missing at ${initScript}. Reinstall @nsbox/core (or run \`pnpm build\` in a checkout).`,
    )
  }
  cachedTools = { unshare, perl, initScript }
  return cachedTools
}

function requireTool(name: string): string {
  const found = findExecutable(name)
  if (!found)
    throw new MissingToolError(
      name,
      `\`${name}\` was not found on PATH. ${INSTALL_HINTS[name] ?? ''}`,
    )
  return found
}
