import { accessSync, constants, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InvalidOptionError } from '../errors.js'
import type { FilesystemSpec } from '../options/types.js'
import { isWithin } from '../plan/paths.js'
import { HOST_TMP } from '../plan/tmp-binds.js'
import { resolveTrustedPath } from './trusted-path.js'

/** A host path the plan names, resolved, with whether it is a directory. */
export interface PathFact {
  path: string
  isDirectory: boolean
}

/** The filesystem policy, checked against the host: every path real and present. */
export interface FilesystemFacts {
  readOnly: boolean
  hide: PathFact[]
  rw: PathFact[]
  ro: PathFact[]
  /** Paths inside a hidden place that the command needs (its cwd, itself), bound back as they are. */
  keep: PathFact[]
  /** Whether `/dev` is replaced by a minimal one. */
  minimalDev: boolean
}

/**
 * Where UNIX sockets live by convention, hidden whole under `untrusted`: a socket made
 * there later, renamed, or with any name is out of reach too. `/tmp` is private anyway.
 */
export function socketPlaces(runtimeDir: string | undefined): string[] {
  const places = ['/run', '/var/run', '/var/tmp']
  if (runtimeDir && path.isAbsolute(runtimeDir)) places.push(runtimeDir)
  return places
}

/**
 * Resolves the policy's paths on the host (symbolic links first, so that hiding a link
 * hides what it points to, but never a link the sandboxed code could have planted), adds
 * what the `untrusted` preset hides (the home directory, the places where sockets live
 * and every other filesystem UNIX socket outside `rw` paths), and refuses what cannot
 * work: a path that does not exist, one path in two lists, a working directory that
 * would be hidden.
 *
 * @param needed - Real paths the command needs to see (its cwd, itself, path arguments).
 * @param exposedTmpPaths - Paths of the host's `/tmp` bound back into the private one.
 */
export function gatherFilesystemFacts(
  spec: FilesystemSpec,
  cwd: string,
  needed: readonly string[] = [],
  exposedTmpPaths: readonly string[] = [],
): FilesystemFacts {
  const owner = new Map<string, string>()
  const resolve = (option: 'ro' | 'rw' | 'hide', entries: string[]): PathFact[] =>
    entries.map((entry) => {
      const real = resolveTrustedPath(option, entry)
      const earlier = owner.get(real)
      if (earlier) {
        throw new InvalidOptionError(
          option,
          `${real} is named by both \`${earlier}\` and \`${option}\`; name each path once.`,
        )
      }
      owner.set(real, option)
      return { path: real, isDirectory: statSync(real).isDirectory() }
    })
  const rw = resolve('rw', spec.rw)
  const ro = resolve('ro', spec.ro)
  const hide = resolve('hide', spec.hide)
  const home = os.homedir()
  // A home directory of / (some service accounts) is no secret store: hiding it would hide all.
  const homes = spec.hideHome && home !== '/' ? [home] : []
  const places = spec.hideSockets ? realDirectories(socketPlaces(process.env.XDG_RUNTIME_DIR)) : []
  for (const real of [...realDirectories(homes), ...places]) {
    if (real !== '/' && !owner.has(real) && !hide.some((fact) => fact.path === real)) {
      hide.push({ path: real, isDirectory: true })
    }
  }
  const visible = [...rw, ...ro].map((fact) => fact.path)
  const keep: PathFact[] = []
  if (spec.hideSockets) {
    // What the command needs inside a place hidden for its sockets comes back, exactly.
    for (const candidate of needed) {
      const place = places.find((dir) => isWithin(candidate, dir))
      if (!place || visible.some((dir) => isWithin(candidate, dir))) continue
      if (keep.some((fact) => isWithin(candidate, fact.path))) continue
      keep.push({ path: candidate, isDirectory: isDirectory(candidate) })
    }
  }
  const shown = [...visible, ...keep.map((fact) => fact.path)]
  if (spec.hideSockets) {
    // Every socket the command could still reach gets an empty file over it: one outside
    // the hidden places, or inside a path given back there. A read-only mount does not
    // stop a connect(); only rw paths keep their sockets, as the caller asked.
    const covers = [
      HOST_TMP,
      '/proc',
      ...hide.filter((fact) => fact.isDirectory).map((fact) => fact.path),
    ]
    const exposes = [...shown, ...exposedTmpPaths]
    for (const socket of socketPaths(readProcNetUnix())) {
      const isCovered = covers.some((dir) => isWithin(socket, dir))
      const isExposed = exposes.some((dir) => isWithin(socket, dir))
      if (rw.some((fact) => isWithin(socket, fact.path)) || (isCovered && !isExposed)) continue
      hide.push({ path: socket, isDirectory: false })
    }
  }
  const hiddenDirectories = hide.filter((fact) => fact.isDirectory).map((fact) => fact.path)
  const hidingCwd = hiddenDirectories.find((dir) => isWithin(cwd, dir))
  if (hidingCwd && !shown.some((dir) => isWithin(cwd, dir))) {
    throw new InvalidOptionError(
      'cwd',
      `The working directory ${cwd} is inside ${hidingCwd}, which is hidden; pass it as an \`rw\` (--rw) or \`ro\` (--ro) path, or run from another directory.`,
    )
  }
  return {
    readOnly: spec.readOnly,
    hide: withoutCoveredHides(hide, shown),
    rw,
    ro,
    keep,
    minimalDev: spec.minimalDev,
  }
}

/**
 * Drops the hide paths that another hidden directory already covers (hiding `~` and
 * `~/.ssh` together): inside an empty tmpfs there is nothing left to mount on. A path
 * that a visible path inside the hidden directory brings back stays.
 */
export function withoutCoveredHides(hide: PathFact[], visible: readonly string[]): PathFact[] {
  return hide.filter((fact) => {
    const cover = hide.find(
      (other) => other !== fact && other.isDirectory && isWithin(fact.path, other.path),
    )
    if (!cover) return true
    return visible.some((dir) => isWithin(dir, cover.path) && isWithin(fact.path, dir))
  })
}

/**
 * The filesystem UNIX sockets listed in `/proc/net/unix`: the path column, which is the
 * rest of the line and may hold spaces, when it is absolute (abstract sockets start with
 * `@` and live in the network namespace). Pure.
 */
export function socketPathsFromProcNetUnix(table: string): string[] {
  const paths = new Set<string>()
  for (const line of table.split('\n').slice(1)) {
    const match = /^\s*(?:\S+\s+){7}(\/.*)$/.exec(line)
    if (match?.[1]) paths.add(match[1])
  }
  return [...paths]
}

function socketPaths(table: string): string[] {
  return socketPathsFromProcNetUnix(table).flatMap((socket) => {
    try {
      return lstatSync(socket).isSocket() ? [realpathSync.native(socket)] : []
    } catch {
      return []
    }
  })
}

function readProcNetUnix(): string {
  try {
    return readFileSync('/proc/net/unix', 'utf8')
  } catch {
    return ''
  }
}

// The real paths of those directories that exist and this process can search.
function realDirectories(candidates: readonly string[]): string[] {
  return candidates.flatMap((candidate) => {
    try {
      const real = realpathSync.native(candidate)
      accessSync(real, constants.X_OK)
      return statSync(real).isDirectory() ? [real] : []
    } catch {
      return []
    }
  })
}

function isDirectory(candidate: string): boolean {
  try {
    return statSync(candidate).isDirectory()
  } catch {
    return false
  }
}
