import type { FilesystemFacts, PathFact } from '../launch/filesystem-facts.js'
import type { SandboxSpec } from '../options/types.js'
import { isWithin } from './paths.js'
import { planSeccompFilter } from './seccomp.js'
import type { KernelAbi } from './syscalls.js'
import { HOST_TMP } from './tmp-binds.js'

// A hidden directory is an empty tmpfs with room for the mount points of paths bound
// inside it.
const HIDDEN_DIRECTORY_OPTIONS = 'size=64k,mode=755'

/** The hostname every sandbox gets. */
export const SANDBOX_HOSTNAME = 'nsbox'

/** Where the cgroup filesystems are mounted: read-only in every sandbox, so no limit can be lifted. */
export const CGROUP_ROOT = '/sys/fs/cgroup'

/** The device nodes a minimal `/dev` gives back from the host, as bubblewrap's `--dev` does. */
export const MINIMAL_DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const

/**
 * The parts of `/proc` that configure the host's kernel rather than describe the sandbox,
 * read-only in a root caller's sandboxes (bubblewrap covers the same): their files belong
 * to uid 0, which a root caller's command still is. Another user's command can write only
 * the settings of its own namespaces there, as the kernel checks.
 */
export const PROC_READ_ONLY = ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus']

// Settings of the sandbox's own namespaces, given back writable inside a read-only /proc/sys.
const PROC_SYS_OWN_USER = '/proc/sys/user'
const PROC_SYS_OWN_NET = '/proc/sys/net'

const MINIMAL_DEV_LINKS: readonly [string, string][] = [
  ['pts/ptmx', '/dev/ptmx'],
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
]

/** Facts about the host the plan depends on, gathered by the launcher before planning. */
export interface HostFacts {
  uid: number
  gid: number
  /** The CPU architecture, as `process.arch` names it. */
  arch: string
  abi: KernelAbi
  /** Entries of the host's `/tmp` to bind back, each with whether it is a directory. */
  tmpBinds: { path: string; isDirectory: boolean }[]
  /** Whether `/dev/shm` exists and should get a private tmpfs too. */
  hasDevShm: boolean
  /** The host's device nodes of {@link MINIMAL_DEV_NODES} that exist, for a minimal `/dev`. */
  devNodes: string[]
  /** The descriptor of the IPC channel the command inherits, or `null` without one. */
  ipcFd: number | null
  /** The filesystem policy, its paths checked on the host. */
  filesystem: FilesystemFacts
  /** Environment the command receives, after nsbox's own additions. */
  env: Record<string, string>
}

/**
 * Turns a spec into the ordered list of steps the in-sandbox init carries out, as the
 * tokens it reads from its control socket. The order is the order the kernel needs:
 * open what the tmpfs will hide, mount the tmpfs, bind those paths back (a minimal
 * `/dev` among them), hide and bind the policy's paths outer first, make the cgroup
 * filesystems (and, under `readOnly`, everything else) read-only, bring the network up,
 * set the hostname, then enter a nested user namespace as the caller's uid (or root),
 * install the seccomp filter and exec. (The init has entered the sandbox's cgroup
 * before it reads the plan.)
 */
export function planInit(spec: SandboxSpec, host: HostFacts): string[] {
  const { abi, filesystem } = host
  const tokens = [
    'nsbox-plan-2',
    ...[
      abi.mount,
      abi.sethostname,
      abi.unshare,
      abi.prctl,
      abi.setsid,
      abi.rtSigprocmask,
      abi.signalfd4,
      abi.exitGroup,
      abi.keyctl,
      abi.fcntl,
      abi.closeRange,
      abi.oPath,
      abi.oNofollow,
    ].map(String),
  ]
  const devNodes: PathFact[] = filesystem.minimalDev
    ? host.devNodes.map((path) => ({ path, isDirectory: false }))
    : []
  const isRootCaller = host.uid === 0
  const ownProcSettings: PathFact[] = isRootCaller
    ? [PROC_SYS_OWN_USER, ...(spec.network === 'host' ? [] : [PROC_SYS_OWN_NET])].map((path) => ({
        path,
        isDirectory: true,
      }))
    : []
  // Everything bound into the sandbox is opened first, before a tmpfs can cover it.
  const held: PathFact[] = [
    ...host.tmpBinds,
    ...devNodes,
    ...filesystem.rw,
    ...filesystem.ro,
    ...filesystem.keep,
    ...ownProcSettings,
  ]
  const bindFromHold = (fact: PathFact) =>
    tokens.push('bind', String(held.indexOf(fact)), fact.path, fact.isDirectory ? 'dir' : 'file')
  for (const fact of held) tokens.push('hold', fact.path)
  tokens.push('tmpfs', HOST_TMP, `size=${spec.tmpSizeBytes},mode=1777`)
  for (const fact of host.tmpBinds) bindFromHold(fact)
  const own = [HOST_TMP]
  if (filesystem.minimalDev) {
    tokens.push('tmpfs', '/dev', HIDDEN_DIRECTORY_OPTIONS)
    for (const fact of devNodes) bindFromHold(fact)
    tokens.push('devpts', '/dev/pts')
    for (const [target, link] of MINIMAL_DEV_LINKS) tokens.push('symlink', target, link)
    tokens.push('mkdir', '/dev/shm')
    own.push('/dev', '/dev/pts')
  }
  if (host.hasDevShm || filesystem.minimalDev) {
    tokens.push('tmpfs', '/dev/shm', `size=${spec.tmpSizeBytes},mode=1777`)
    own.push('/dev/shm')
  }
  // Outer paths first, so that each mount lands on top of its parent's: a path given back
  // inside a hidden directory, a secret hidden inside an rw directory.
  const steps = [
    ...filesystem.hide.map((fact) => ({ fact, kind: 'hide' as const })),
    ...filesystem.rw.map((fact) => ({ fact, kind: 'rw' as const })),
    ...filesystem.ro.map((fact) => ({ fact, kind: 'ro' as const })),
    ...filesystem.keep.map((fact) => ({ fact, kind: 'keep' as const })),
  ].sort((a, b) => depth(a.fact.path) - depth(b.fact.path))
  for (const { fact, kind } of steps) {
    if (kind === 'hide' && fact.isDirectory)
      tokens.push('tmpfs', fact.path, HIDDEN_DIRECTORY_OPTIONS)
    else if (kind === 'hide') tokens.push('hidefile', fact.path)
    else bindFromHold(fact)
    if (kind === 'ro') tokens.push('readonly', fact.path)
  }
  if (isRootCaller) {
    for (const procPath of PROC_READ_ONLY) tokens.push('readonly-bind', procPath)
    for (const fact of ownProcSettings) bindFromHold(fact)
  }
  const writable = filesystem.rw.map((fact) => fact.path)
  // readonly-all covers the cgroup filesystems too, unless an rw path leaves them out.
  const coversCgroups =
    filesystem.readOnly &&
    !writable.some((dir) => isWithin(dir, CGROUP_ROOT) || isWithin(CGROUP_ROOT, dir))
  if (!coversCgroups) tokens.push('readonly-tree', CGROUP_ROOT)
  if (filesystem.readOnly) {
    tokens.push('readonly-all', String(own.length), ...own, String(writable.length), ...writable)
  }
  if (spec.network === 'loopback') tokens.push('loopback')
  tokens.push('hostname', SANDBOX_HOSTNAME)
  if (spec.uid === 'self') tokens.push('user', 'self', String(host.uid), String(host.gid))
  else tokens.push('user', 'root', '0', '0')
  if (host.ipcFd !== null) tokens.push('keep-fd', String(host.ipcFd))
  if (spec.seccomp) tokens.push('seccomp', planSeccompFilter(host.arch).toString('hex'))
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
