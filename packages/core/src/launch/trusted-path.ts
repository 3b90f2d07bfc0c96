import { accessSync, constants, lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs'
import path from 'node:path'
import { InvalidOptionError } from '../errors.js'

const MAX_LINKS = 40 // the kernel's own limit on links in one lookup

/**
 * Resolves an absolute path option (`ro`, `rw`, `hide`) to its real path. A sandbox runs
 * as the caller's uid, so it can plant a link wherever the caller can write, and a later
 * `ro` or `rw` path through it would bind whatever the link chose: such a path is refused
 * with `ERR_INVALID_OPTION` naming the link, as bubblewrap refuses to mount through one.
 * Links the system owns (`/var/run` → `/run`) resolve. A `hide` path resolves through
 * every link: hiding hides what the link points to, whoever planted it.
 */
export function resolveTrustedPath(option: 'ro' | 'rw' | 'hide', entry: string): string {
  const pending = entry.split('/').filter((part) => part !== '' && part !== '.')
  let resolved = '/'
  let links = 0
  while (pending.length > 0) {
    const part = pending.shift() as string
    if (part === '..') {
      resolved = path.dirname(resolved)
      continue
    }
    const next = path.join(resolved, part)
    const stats = lstatOrExplain(option, entry, next)
    if (!stats.isSymbolicLink()) {
      resolved = next
      continue
    }
    links += 1
    if (links > MAX_LINKS) {
      throw new InvalidOptionError(
        option,
        `The \`${option}\` path ${entry} goes through more than ${MAX_LINKS} symbolic links (a loop?). Name its real path instead.`,
      )
    }
    if (option !== 'hide' && isPlantable(next, stats)) {
      throw new InvalidOptionError(
        option,
        `The \`${option}\` path ${entry} passes through the symbolic link ${next}, in a directory this user can write, where code from an earlier sandbox could have planted it. Name the path it stands for instead${suggestion(next)}, after checking that it is the one you mean.`,
      )
    }
    const target = readlinkSync(next)
    if (path.isAbsolute(target)) resolved = '/'
    pending.unshift(...target.split('/').filter((each) => each !== '' && each !== '.'))
  }
  return resolved
}

function lstatOrExplain(option: string, entry: string, candidate: string): Stats {
  try {
    return lstatSync(candidate)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new InvalidOptionError(
      option,
      code === 'ENOENT'
        ? `The \`${option}\` path ${entry} does not exist. Create it or leave it out.`
        : `The \`${option}\` path ${entry} cannot be reached by this user (${code}). Make it and its parent directories searchable, or leave it out.`,
    )
  }
}

// A link this user owns, or one in a directory this user may write, could come from a sandbox.
function isPlantable(link: string, stats: Stats): boolean {
  if (stats.uid === process.getuid?.()) return true
  try {
    accessSync(path.dirname(link), constants.W_OK)
    return true
  } catch {
    return false
  }
}

function suggestion(link: string): string {
  try {
    return ` (${realpathSync.native(link)})`
  } catch {
    return ''
  }
}
