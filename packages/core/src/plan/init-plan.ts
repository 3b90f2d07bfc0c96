import type { FilesystemFacts, PathFact } from '../launch/filesystem-facts.js'
import type { SandboxSpec } from '../options/types.js'
import type { KernelAbi } from './syscalls.js'
import { HOST_TMP } from './tmp-binds.js'

// A hidden directory is an empty tmpfs with room for the mount points of paths bound
// inside it.
const HIDDEN_DIRECTORY_OPTIONS = 'size=64k,mode=755'

/** The hostname every sandbox gets. */
export const SANDBOX_HOSTNAME = 'nsbox'

/** Facts about the host the plan depends on, gathered by the launcher before planning. */
export interface HostFacts {
  uid: number
  gid: number
  abi: KernelAbi
  /** Entries of the host's `/tmp` to bind back, each with whether it is a directory. */
  tmpBinds: { path: string; isDirectory: boolean }[]
  /** Whether `/dev/shm` exists and should get a private tmpfs too. */
  hasDevShm: boolean
  /** The filesystem policy, its paths checked on the host. */
  filesystem: FilesystemFacts
  /** Environment the command receives, after nsbox's own additions. */
  env: Record<string, string>
}

/**
 * Turns a spec into the ordered list of steps the in-sandbox init carries out, as the
 * tokens it reads from its control socket. The order is the order the kernel needs:
 * open what the tmpfs will hide, mount the tmpfs, bind those paths back, bring the
 * network up, set the hostname, then drop to the caller's uid and exec. (The init has
 * entered the sandbox's cgroup before it reads the plan.)
 */
export function planInit(spec: SandboxSpec, host: HostFacts): string[] {
  const { abi } = host
  const tokens = [
    'nsbox-plan-1',
    ...[
      abi.mount,
      abi.sethostname,
      abi.unshare,
      abi.prctl,
      abi.setsid,
      abi.rtSigprocmask,
      abi.signalfd4,
      abi.exitGroup,
      abi.oPath,
    ].map(String),
  ]
  const { filesystem } = host
  // Everything bound into the sandbox is opened first, before a tmpfs can cover it.
  const held: PathFact[] = [...host.tmpBinds, ...filesystem.rw, ...filesystem.ro]
  const bindFromHold = (fact: PathFact) =>
    tokens.push('bind', String(held.indexOf(fact)), fact.path, fact.isDirectory ? 'dir' : 'file')
  for (const fact of held) tokens.push('hold', fact.path)
  tokens.push('tmpfs', HOST_TMP, `size=${spec.tmpSizeBytes},mode=1777`)
  for (const fact of host.tmpBinds) bindFromHold(fact)
  if (host.hasDevShm) tokens.push('tmpfs', '/dev/shm', `size=${spec.tmpSizeBytes},mode=1777`)
  // Outer paths first, so that each mount lands on top of its parent's: a path given back
  // inside a hidden directory, a secret hidden inside an rw directory.
  const steps = [
    ...filesystem.hide.map((fact) => ({ fact, kind: 'hide' as const })),
    ...filesystem.rw.map((fact) => ({ fact, kind: 'rw' as const })),
    ...filesystem.ro.map((fact) => ({ fact, kind: 'ro' as const })),
  ].sort((a, b) => depth(a.fact.path) - depth(b.fact.path))
  for (const { fact, kind } of steps) {
    if (kind === 'hide' && fact.isDirectory)
      tokens.push('tmpfs', fact.path, HIDDEN_DIRECTORY_OPTIONS)
    else if (kind === 'hide') tokens.push('hidefile', fact.path)
    else bindFromHold(fact)
    if (kind === 'ro') tokens.push('readonly', fact.path)
  }
  if (filesystem.readOnly) {
    const own = host.hasDevShm ? [HOST_TMP, '/dev/shm'] : [HOST_TMP]
    const writable = filesystem.rw.map((fact) => fact.path)
    tokens.push('readonly-all', String(own.length), ...own, String(writable.length), ...writable)
  }
  if (spec.network === 'loopback') tokens.push('loopback')
  tokens.push('hostname', SANDBOX_HOSTNAME)
  if (spec.uid === 'self') tokens.push('user', String(host.uid), String(host.gid))
  tokens.push('cwd', spec.cwd)
  for (const [key, value] of Object.entries(host.env)) tokens.push('env', `${key}=${value}`)
  tokens.push('exec', spec.file, ...spec.args)
  return tokens
}

function depth(path: string): number {
  return path.split('/').filter(Boolean).length
}

/** Frames tokens for the control socket: `"<length>\n"` and NUL-terminated tokens. */
export function encodePlan(tokens: readonly string[]): Buffer {
  const payload = Buffer.from(tokens.map((token) => `${token}\0`).join(''), 'utf8')
  return Buffer.concat([Buffer.from(`${payload.length}\n`), payload])
}
