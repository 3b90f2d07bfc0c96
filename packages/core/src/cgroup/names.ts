import { readFileSync, readlinkSync } from 'node:fs'

/**
 * Sandbox cgroups are named `nsbox-<pid namespace>-<owner pid>-<owner start time>-<sequence>`.
 * The PID namespace (the inode of the owner's `/proc/self/ns/pid`) says whose PIDs the
 * other two are: a process of another PID namespace (nsbox inside a sandbox, or in a
 * container that shares the cgroup tree) has PIDs that mean nothing here. The start time
 * tells a crashed owner from a new process that got the same PID.
 */
const LEAF_PATTERN = /^nsbox-(\d+)-(\d+)-(\d+)-\d+$/

/** The leaf every process moves into when a delegated cgroup v2 subtree needs emptying. */
export const HOST_LEAF_NAME = 'nsbox-host'

/** Who made a sandbox cgroup, as its name records it. */
export interface CgroupOwner {
  /** Inode of the owner's PID namespace. */
  pidNamespace: number
  pid: number
  /** Start time in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  startTime: number
}

/** This process as a cgroup owner, and whether its `/proc` shows its own PID namespace. */
export interface OwnIdentity extends CgroupOwner {
  /** Whether `/proc/<pid>` looks up PIDs of this process's namespace, so owners can be checked. */
  canCheckOwners: boolean
}

let sequence = 0
let identity: OwnIdentity | undefined

/** This process's identity, read once: it does not change while the process lives. */
export function ownIdentity(): OwnIdentity {
  identity ??= readOwnIdentity()
  return identity
}

function readOwnIdentity(): OwnIdentity {
  let pidNamespace = 0
  let seenPid = ''
  try {
    pidNamespace = Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? 0)
    seenPid = readlinkSync('/proc/self')
  } catch {
    // no /proc: owners cannot be checked
  }
  const startTime = parseStartTime(readProcStat(process.pid) ?? '')
  return {
    pidNamespace,
    pid: process.pid,
    startTime: startTime ?? 0,
    canCheckOwners: pidNamespace !== 0 && startTime !== null && seenPid === String(process.pid),
  }
}

/** A fresh name for a sandbox cgroup owned by this process. */
export function nextLeafName(): string {
  const self = ownIdentity()
  sequence += 1
  return `nsbox-${self.pidNamespace}-${self.pid}-${self.startTime}-${sequence}`
}

/** The owner a sandbox cgroup name records, or `null` for names nsbox did not make. */
export function parseLeafName(name: string): CgroupOwner | null {
  const match = LEAF_PATTERN.exec(name)
  if (!match) return null
  return { pidNamespace: Number(match[1]), pid: Number(match[2]), startTime: Number(match[3]) }
}

/**
 * Whether a sandbox cgroup's owner is gone for sure, so that its cgroup may be removed.
 * `ownerStartTime` is what `/proc/<owner pid>/stat` says now: a start time, `'gone'` when
 * there is no such process, or `null` when it could not be read (then nothing is sure).
 * An owner of another PID namespace is never judged: its PIDs mean nothing here. Pure.
 */
export function isOwnerGone(
  owner: CgroupOwner,
  self: OwnIdentity,
  ownerStartTime: number | 'gone' | null,
): boolean {
  if (!self.canCheckOwners || owner.pidNamespace !== self.pidNamespace) return false
  if (owner.pid === self.pid) return owner.startTime !== self.startTime
  if (ownerStartTime === null) return false
  return ownerStartTime === 'gone' || ownerStartTime !== owner.startTime
}

/** Reads `/proc/<pid>/stat`, or `null` when it cannot be read. */
export function readProcStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
}

/** The start time (field 22) of a `/proc/<pid>/stat` line, or `null`. */
export function parseStartTime(stat: string): number | null {
  // The command name (field 2) may hold spaces and parentheses; fields after it do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const startTime = Number(fields[19])
  return stat !== '' && Number.isFinite(startTime) ? startTime : null
}
