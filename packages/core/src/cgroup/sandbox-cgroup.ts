import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { SetupFailedError } from '../errors.js'
import type { LimitsSpec } from '../options/types.js'
import { type CgroupUsage, parseKeyedCounters, planCgroupWrites } from '../plan/cgroup-writes.js'
import {
  cgroupTree,
  killCgroupProcesses,
  ownerOf,
  readCgroupFile,
  removeCgroupDir,
  tryRemoveCgroupDir,
  userName,
  writeCgroupFile,
} from './files.js'
import type { CgroupController } from './layout.js'
import { nextLeafName } from './names.js'
import { reapStaleCgroupsSoon } from './reaper.js'

// Something to wait on for a blocking pause.
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

function cgroupError(what: string, error: unknown): SetupFailedError {
  const { code, path: file } = error as NodeJS.ErrnoException
  const parent = file && (code === 'EACCES' || code === 'EPERM') ? path.dirname(file) : null
  const owner = parent ? ownerOf(parent) : null
  const uid = process.getuid?.()
  const why =
    parent && owner !== null && owner !== uid
      ? ` ${parent} belongs to uid ${owner} now, not to this user (uid ${uid}): its delegation was changed. Give it back with \`sudo nsbox delegate --user ${userName()}\`, or run \`nsbox doctor\`.`
      : ' Run `nsbox doctor` to see which cgroups this user may write.'
  return new SetupFailedError(
    'cgroup',
    `nsbox: could not ${what} (${(error as Error).message}).${why}`,
    {
      cause: error,
    },
  )
}

/** A cgroup backend that enforces limits in the kernel. */
export type CgroupBackend = 'cgroup2' | 'cgroup1'

/** A controller that enforces one of nsbox's limits. */
export type LimitController = 'memory' | 'pids' | 'cpu'

/** Where a host's sandbox cgroups are created: one base directory per controller. */
export interface CgroupBases {
  backend: CgroupBackend
  /** On cgroup v2 every controller shares one directory. */
  bases: Partial<Record<CgroupController, string>>
  /** The controllers that can enforce a limit there (`cpu` enforces `cpus`). */
  limits: Set<LimitController>
}

/** The cgroup a sandbox needs: the bases it goes under and the controllers it uses. */
export interface CgroupShape {
  bases: CgroupBases
  controllers: CgroupController[]
}

/**
 * The cgroup that enforces `limits` under `bases`. Every cgroup v1 hierarchy costs a
 * mkdir, a write and an rmdir per sandbox, so only those a limit needs are used; cgroup
 * v2 has one directory for all.
 */
export function cgroupShapeFor(bases: CgroupBases, limits: LimitsSpec): CgroupShape {
  if (bases.backend === 'cgroup2') return { bases, controllers: ['memory', 'pids', 'cpu'] }
  const controllers: CgroupController[] = []
  if (limits.memoryBytes !== null) controllers.push('memory')
  if (limits.pids !== null) controllers.push('pids')
  if (limits.cpus !== null) controllers.push('cpu', 'cpuacct')
  return { bases, controllers }
}

/**
 * The cgroup the sandbox's processes live in, a child of the one that holds its limits.
 * A process can only ever reach its own cgroup and those below it (through a cgroup
 * namespace and a cgroupfs mount of its own), so the limits stay out of its reach.
 */
export const COMMAND_CGROUP = 'command'

/**
 * One sandbox's cgroup: created before launch, entered by the sandbox's init before the
 * command execs, given its limits once the sandbox's options are known, then read and
 * removed after the sandbox has ended. The limits sit on the sandbox's cgroup, its
 * processes in {@link COMMAND_CGROUP} below it.
 */
export class SandboxCgroup {
  readonly backend: CgroupBackend
  /** The `cgroup.procs` files the init writes itself into. */
  readonly procsFiles: string[]
  /** Whether the memory limit also keeps the sandbox out of swap (swap accounting is on). */
  isSwapCapped = false
  readonly #dirs: Partial<Record<CgroupController, string>>
  /** Each directory's tree as {@link readUsage} found it, once the sandbox has ended. */
  #endedTrees = new Map<string, string[]>()

  private constructor(backend: CgroupBackend, dirs: Partial<Record<CgroupController, string>>) {
    this.backend = backend
    this.#dirs = dirs
    this.procsFiles = this.#uniqueDirs().map((dir) => `${dir}/${COMMAND_CGROUP}/cgroup.procs`)
  }

  /** Creates a sandbox cgroup, with no limits yet; throws `ERR_SETUP_FAILED`. */
  static create({ bases, controllers }: CgroupShape): SandboxCgroup {
    const name = nextLeafName()
    const dirs: Partial<Record<CgroupController, string>> = {}
    for (const controller of controllers) {
      const base = bases.bases[controller]
      if (base) dirs[controller] = path.join(base, name)
    }
    const cgroup = new SandboxCgroup(bases.backend, dirs)
    try {
      for (const base of new Set(Object.values(bases.bases))) reapStaleCgroupsSoon(base)
      for (const dir of cgroup.#uniqueDirs()) {
        mkdirSync(dir)
        mkdirSync(`${dir}/${COMMAND_CGROUP}`)
      }
    } catch (error) {
      cgroup.removeNow(1)
      throw cgroupError("create the sandbox's cgroup", error)
    }
    return cgroup
  }

  /** Writes the sandbox's limits, once; throws `ERR_SETUP_FAILED`. */
  writeLimits(limits: LimitsSpec): void {
    const memoryDir = this.#dirs.memory
    const canLimitSwap =
      limits.memoryBytes !== null &&
      memoryDir !== undefined &&
      (existsSync(`${memoryDir}/memory.swap.max`) ||
        existsSync(`${memoryDir}/memory.memsw.limit_in_bytes`))
    const version = this.backend === 'cgroup2' ? 2 : 1
    try {
      for (const write of planCgroupWrites(limits, version, { canLimitSwap })) {
        const dir = this.#dirs[write.controller]
        if (!dir) throw new Error(`no ${write.controller} cgroup to write ${write.file} in`)
        writeCgroupFile(`${dir}/${write.file}`, write.value)
      }
    } catch (error) {
      throw cgroupError("set the limits of the sandbox's cgroup", error)
    }
    this.isSwapCapped = canLimitSwap
  }

  /**
   * Removes the cgroup of a sandbox whose processes were killed, waiting for them to be
   * gone: at most `attempts` tries a millisecond apart, blocking. For a process that is
   * about to exit and cannot wait for a promise; `true` once it is gone.
   */
  removeNow(attempts = 200): boolean {
    let isGone = false
    for (let attempt = 0; attempt < attempts && !isGone; attempt++) {
      if (attempt > 0) Atomics.wait(PAUSE, 0, 0, 1)
      isGone = this.#uniqueDirs().every((dir) => {
        if (tryRemoveCgroupDir(dir)) return true
        killCgroupProcesses(dir)
        return false
      })
    }
    return isGone
  }

  /** Whether a fork has been refused because of `pids.max` so far. */
  hasHitPidsLimit(): boolean {
    return this.#pidsLimitHits() > 0
  }

  /** Reads the counters nsbox reports; call after the sandbox has ended, before `destroy`. */
  readUsage(): CgroupUsage {
    const { memory, pids, cpu, cpuacct } = this.#dirs
    const isV2 = this.backend === 'cgroup2'
    // Nothing of the sandbox runs any more to change them: listed once, for destroy too.
    for (const dir of this.#uniqueDirs()) this.#endedTrees.set(dir, cgroupTree(dir))
    const readNumber = (file: string): number | null => {
      const text = readCgroupFile(file)
      return text === null || !/^\d+\s*$/.test(text) ? null : Number(text)
    }
    // cgroup v1 counts an OOM kill in the victim's own cgroup, which may be one the
    // sandbox made below its own: add up the whole tree.
    const oomKills = memory
      ? sumOverTree(this.#treeOf(memory), isV2 ? 'memory.events' : 'memory.oom_control', 'oom_kill')
      : 0
    let cpuTimeMs: number | null = null
    if (isV2 && cpu) {
      const usec = parseKeyedCounters(readCgroupFile(`${cpu}/cpu.stat`) ?? '').get('usage_usec')
      cpuTimeMs = usec === undefined ? null : usec / 1000
    } else if (cpuacct) {
      const nanoseconds = readNumber(`${cpuacct}/cpuacct.usage`)
      cpuTimeMs = nanoseconds === null ? null : nanoseconds / 1e6
    }
    return {
      oomKills,
      pidsLimitHits: this.#pidsLimitHits(),
      memoryPeakBytes: memory
        ? readNumber(`${memory}/${isV2 ? 'memory.peak' : 'memory.max_usage_in_bytes'}`)
        : null,
      pidsPeak: pids ? readNumber(`${pids}/pids.peak`) : null,
      cpuTimeMs,
    }
  }

  /**
   * Kills whatever is left in the cgroup and removes it. The PID namespace has usually
   * taken everything with it already; the kill covers what it could not.
   */
  async destroy(): Promise<void> {
    // The first try needs no kill: the processes are gone unless rmdir says otherwise.
    const left = this.#uniqueDirs().filter(
      (dir) => !tryRemoveCgroupDir(dir, this.#endedTrees.get(dir)),
    )
    await Promise.all(
      left.map((dir) => {
        killCgroupProcesses(dir)
        return removeCgroupDir(dir)
      }),
    )
  }

  // `max` in pids.events counts the forks pids.max refused, in the forking process's cgroup.
  #pidsLimitHits(): number {
    const dir = this.#dirs.pids
    return dir ? sumOverTree(this.#treeOf(dir), 'pids.events', 'max') : 0
  }

  #treeOf(dir: string): string[] {
    return this.#endedTrees.get(dir) ?? cgroupTree(dir)
  }

  #uniqueDirs(): string[] {
    return [...new Set(Object.values(this.#dirs))]
  }
}

// A keyed counter added up over a cgroup and every cgroup below it.
function sumOverTree(tree: string[], file: string, key: string): number {
  let total = 0
  for (const each of tree) {
    total += parseKeyedCounters(readCgroupFile(`${each}/${file}`) ?? '').get(key) ?? 0
  }
  return total
}
