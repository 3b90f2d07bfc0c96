import type { Duration } from './duration.js'
import type { Size } from './size.js'

/**
 * Network policy of a sandbox.
 * - `'loopback'` (default): a private network namespace with only `lo`, up. A server on
 *   127.0.0.1 inside is reachable only from inside; two sandboxes can bind the same port.
 * - `'none'`: a private network namespace with `lo` down: no usable interface at all.
 * - `'host'`: no network namespace; the command shares the host's network.
 */
export type NetworkMode = 'loopback' | 'none' | 'host'

/**
 * Who the command runs as inside the sandbox.
 * - `'self'` (default): the caller's own uid and gid, with no capabilities.
 * - `'root'`: uid 0 of a user namespace of its own, nested in the sandbox's, with mount,
 *   UTS and IPC namespaces that namespace owns. It can mount and set the hostname there,
 *   but every mount nsbox made is locked to it: it cannot undo a hidden path, a read-only
 *   mount or the cgroup's limits, and holds no capability over the host.
 */
export type UserMode = 'self' | 'root'

/** Options shared by {@link run} and {@link spawn}. */
export interface SandboxOptions {
  /** Working directory of the command. Default: `process.cwd()`. */
  cwd?: string | URL
  /** Environment variables for the command, added to `process.env` unless `extendEnv` is `false`. */
  env?: Record<string, string | undefined>
  /** Whether `env` extends `process.env` (`true`, default) or replaces it (`false`). */
  extendEnv?: boolean
  /** Wall-clock limit; when it fires, every process of the sandbox is killed. Default: none. */
  timeout?: Duration
  /** Network policy. Default: `'loopback'`. */
  network?: NetworkMode
  /** Who the command runs as. Default: `'self'`. */
  uid?: UserMode
  /** Size cap of the private `/tmp` (a tmpfs). Default: `'1G'`. */
  tmpSize?: Size
  /**
   * Memory cap for everything in the sandbox together, with swap off; files written to
   * the private `/tmp` count too. Over it, the kernel's OOM killer ends a process and the
   * result says `killedBy: 'memory'`. At least `'4M'`, what a sandbox needs to start.
   * Default: none.
   */
  memory?: Size
  /**
   * Cap on the number of processes and threads. A fork beyond it fails; nsbox then ends
   * the sandbox and the result says `killedBy: 'pids'`. At least 2: the sandbox's init and
   * the command count. Default: none.
   */
  pids?: number
  /**
   * CPU cap in cores, such as `1.5` (at least `0.01`); needs a cgroup. More than the CPUs
   * this process may use gives a warning (`NSBOX_CPUS_ABOVE_HOST`). Default: none.
   */
  cpus?: number
  /**
   * What to do when a cgroup cannot enforce `memory` or `pids` here.
   * `'best-effort'` (default): fall back to nsbox's polling watchdog and warn once.
   * `'strict'`: refuse to start with `ERR_LIMIT_UNAVAILABLE`.
   */
  enforce?: EnforceMode
  /**
   * Make the whole filesystem read-only for the command, except its private `/tmp` and
   * `/dev/shm` and the `rw` paths. Default: `false`.
   */
  readOnly?: boolean
  /**
   * Paths bound read-only into the sandbox (as themselves), such as a toolchain. Relative
   * paths here and in `rw` and `hide` are resolved against `process.cwd()`. Default: none.
   */
  ro?: string[]
  /** Paths that stay writable, also under `readOnly` or inside a `hide` path. Default: none. */
  rw?: string[]
  /**
   * Paths the command must not see: a directory becomes an empty directory, a file an empty
   * file. Symbolic links are resolved first. Default: none.
   */
  hide?: string[]
  /**
   * Install a seccomp filter before the command starts that denies system calls a
   * sandboxed program has no business making and that widen the kernel's attack surface:
   * new user namespaces, mounts, `ptrace`, keyrings, BPF, `perf_event_open`,
   * `userfaultfd`, `io_uring`, kernel modules, `TIOCSTI`, and more (see the
   * "Running untrusted code" guide for the list). Default: `false`, `true` under `untrusted`.
   */
  seccomp?: boolean
  /**
   * Start from an empty environment instead of `process.env`, keeping only `PATH`, `HOME`,
   * `USER`, `LOGNAME`, `LANG`, `LC_ALL`, `TZ` and `TERM`; `env` is added on top. Default: `false`.
   */
  clearEnv?: boolean
  /**
   * The preset for code nsbox's caller does not trust; every value it sets can be
   * overridden by passing that option too: `network: 'none'`, `readOnly: true`, the home
   * directory hidden, the places where UNIX sockets live hidden (`/run`, `/var/run`,
   * `/var/tmp`, `$XDG_RUNTIME_DIR`) and every other filesystem UNIX socket outside `rw`
   * paths (ssh-agent, Docker, Podman, D-Bus, X11…), a minimal `/dev`, only the exact
   * paths it needs bound back from `/tmp`, `seccomp: true`, `clearEnv: true`, `pids: 128`, `memory: '512M'`,
   * `timeout: '60s'`, `tmpSize: '64M'` and, for {@link run}, `maxOutput: '1M'`.
   * Default: `false`.
   */
  untrusted?: boolean
}

/** Whether limits may fall back to the polling watchdog; see {@link SandboxOptions.enforce}. */
export type EnforceMode = 'best-effort' | 'strict'

/** Options of {@link run}. */
export interface RunOptions extends SandboxOptions {
  /** Written to the command's stdin, which is then closed. Default: stdin is `/dev/null`. */
  input?: string | Uint8Array
  /**
   * Most bytes kept of each of stdout and stderr, cut before a UTF-8 character that would
   * not fit whole; the rest is read and dropped. Default: `'16M'`.
   */
  maxOutput?: Size
}

/** Where one of a spawned sandbox's standard streams goes. */
export type StdioSlot = 'pipe' | 'inherit' | 'ignore'

/** Options of {@link spawn}. */
export interface SpawnOptions extends SandboxOptions {
  /**
   * Standard streams, as in `child_process.spawn`: one value for all three, or an array of
   * three, optionally followed by `'ipc'` for a Node.js IPC channel. Default: `'pipe'`.
   */
  stdio?: StdioSlot | [StdioSlot, StdioSlot, StdioSlot] | [StdioSlot, StdioSlot, StdioSlot, 'ipc']
  /** Serialization of the IPC channel. Default: `'json'`. */
  serialization?: 'json' | 'advanced'
}

/** Resource limits after validation; `null` means not set. */
export interface LimitsSpec {
  memoryBytes: number | null
  pids: number | null
  cpus: number | null
}

/** Filesystem policy after validation: absolute paths, not yet checked on the host. */
export interface FilesystemSpec {
  readOnly: boolean
  ro: string[]
  rw: string[]
  hide: string[]
  /** Hide the caller's home directory, when it exists (the `untrusted` preset). */
  hideHome: boolean
  /**
   * Hide the places where UNIX sockets live and every other filesystem UNIX socket outside
   * `rw` paths (the `untrusted` preset).
   */
  hideSockets: boolean
  /** Bind back from the host's `/tmp` only the exact paths the command needs, not their top-level entries (the `untrusted` preset). */
  exactTmpBinds: boolean
  /** Replace `/dev` with a minimal one and a devpts of its own (the `untrusted` preset). */
  minimalDev: boolean
}

/** Everything a launch needs, validated and normalized once. Downstream code trusts it. */
export interface SandboxSpec {
  file: string
  args: string[]
  cwd: string
  env: Record<string, string>
  timeoutMs: number | null
  network: NetworkMode
  uid: UserMode
  tmpSizeBytes: number
  limits: LimitsSpec
  enforce: EnforceMode
  filesystem: FilesystemSpec
  seccomp: boolean
}

/** {@link SandboxSpec} plus what only {@link run} uses. */
export interface RunSpec extends SandboxSpec {
  input: string | Uint8Array | null
  maxOutputBytes: number
}

/** {@link SandboxSpec} plus what only {@link spawn} uses. */
export interface SpawnSpec extends SandboxSpec {
  stdio: [StdioSlot, StdioSlot, StdioSlot]
  ipc: boolean
  serialization: 'json' | 'advanced'
}
