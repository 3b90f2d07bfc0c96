import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InvalidOptionError } from '../errors.js'
import type { FilesystemSpec } from '../options/types.js'
import { HOST_TMP } from '../plan/tmp-binds.js'

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
}

/**
 * Resolves the policy's paths on the host (symbolic links first, so that hiding a link
 * hides what it points to), adds what the `untrusted` preset hides (the home directory,
 * every filesystem UNIX socket outside `rw` paths), and refuses what cannot work: a path
 * that does not exist, one path in two lists, a working directory that would be hidden.
 */
export function gatherFilesystemFacts(spec: FilesystemSpec, cwd: string): FilesystemFacts {
  const owner = new Map<string, string>()
  const resolve = (option: 'ro' | 'rw' | 'hide', entries: string[]): PathFact[] =>
    entries.map((entry) => {
      let real: string
      try {
        real = realpathSync.native(entry)
      } catch (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
        throw new InvalidOptionError(
          option,
          missing
            ? `The \`${option}\` path ${entry} does not exist. Create it or leave it out.`
            : `The \`${option}\` path ${entry} cannot be reached by this user (${(error as NodeJS.ErrnoException).code}). Make it and its parent directories searchable, or leave it out.`,
        )
      }
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
  if (spec.hideHome && home !== '/' && isDirectory(home) && !owner.has(realpathSync.native(home))) {
    hide.push({ path: realpathSync.native(home), isDirectory: true })
  }
  const hiddenDirectories = hide.filter((fact) => fact.isDirectory).map((fact) => fact.path)
  const visible = [...rw, ...ro].map((fact) => fact.path)
  if (spec.hideSockets) {
    // A read-only mount does not stop a connect(): only rw paths keep their sockets.
    const kept = [HOST_TMP, '/proc', ...hiddenDirectories, ...rw.map((fact) => fact.path)]
    for (const socket of socketPaths(readProcNetUnix())) {
      if (!kept.some((dir) => isWithin(socket, dir)))
        hide.push({ path: socket, isDirectory: false })
    }
  }
  const hidingCwd = hiddenDirectories.find((dir) => isWithin(cwd, dir))
  if (hidingCwd && !visible.some((dir) => isWithin(cwd, dir))) {
    throw new InvalidOptionError(
      'cwd',
      `The working directory ${cwd} is inside ${hidingCwd}, which is hidden; pass it as an \`rw\` (--rw) or \`ro\` (--ro) path, or run from another directory.`,
    )
  }
  return { readOnly: spec.readOnly, hide, rw, ro }
}

/**
 * The filesystem UNIX sockets listed in `/proc/net/unix` (the last column, when it is an
 * absolute path; abstract sockets start with `@` and live in the network namespace). Pure.
 */
export function socketPathsFromProcNetUnix(table: string): string[] {
  const paths = new Set<string>()
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    const last = fields.length >= 8 ? fields[7] : undefined
    if (last?.startsWith('/')) paths.add(last)
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

function isWithin(candidate: string, dir: string): boolean {
  const relative = path.relative(dir, candidate)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

function isDirectory(candidate: string): boolean {
  try {
    return statSync(candidate).isDirectory()
  } catch {
    return false
  }
}
