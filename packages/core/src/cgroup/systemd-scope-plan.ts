/**
 * What decides whether nsbox asks the user's systemd manager for a delegated scope, as
 * found on this host (see `readSystemdScopeFacts`).
 */
export interface SystemdScopeFacts {
  /** `NSBOX_SYSTEMD_SCOPE=0` in the environment. */
  isTurnedOff: boolean
  uid: number
  /** The user manager's private socket, `$XDG_RUNTIME_DIR/systemd/private`, exists. */
  hasUserManager: boolean
  /** The user's D-Bus socket (`$DBUS_SESSION_BUS_ADDRESS`, or `$XDG_RUNTIME_DIR/bus`) exists. */
  hasUserBus: boolean
  /** Absolute path of systemd's `busctl`, or `null`. */
  busctl: string | null
}

/** Whether to move this process into a delegated systemd scope, and if not, why not. */
export type SystemdScopeDecision =
  | { use: true; busctl: string }
  /** `why` is `null` when no user manager runs here: nothing to say beyond today's advice. */
  | { use: false; why: string | null }

/**
 * Decides, for a cgroup v2 process whose own cgroup is not delegated, whether nsbox asks
 * the user's systemd manager to move it into a transient scope with `Delegate=yes`
 * (where it may then create sandbox cgroups). Pure.
 */
export function decideSystemdScope(facts: SystemdScopeFacts): SystemdScopeDecision {
  if (facts.isTurnedOff) {
    return { use: false, why: 'NSBOX_SYSTEMD_SCOPE=0 turns the systemd user scope off' }
  }
  // Root may write every cgroup: it never needs a scope, and has no user manager to ask.
  if (facts.uid === 0 || !facts.hasUserManager) return { use: false, why: null }
  if (!facts.hasUserBus) {
    return {
      use: false,
      why: "the user's systemd manager runs, but the user's D-Bus socket ($XDG_RUNTIME_DIR/bus) is missing (install dbus-user-session)",
    }
  }
  if (facts.busctl === null) {
    return {
      use: false,
      why: "the user's systemd manager runs, but systemd's busctl is not on PATH",
    }
  }
  return { use: true, busctl: facts.busctl }
}

/**
 * The `busctl` arguments of the one D-Bus call that asks the user's systemd manager to
 * start the transient scope `unit` holding process `pid`, with its cgroup delegated to the
 * user and the unit garbage-collected once its processes are gone, even if it failed. Pure.
 */
export function startScopeArgs(unit: string, pid: number): string[] {
  return [
    '--user',
    '--timeout=10',
    'call',
    'org.freedesktop.systemd1',
    '/org/freedesktop/systemd1',
    'org.freedesktop.systemd1.Manager',
    'StartTransientUnit',
    'ssa(sv)a(sa(sv))',
    unit,
    'fail',
    '4',
    'PIDs',
    'au',
    '1',
    String(pid),
    'Delegate',
    'b',
    'true',
    'CollectMode',
    's',
    'inactive-or-failed',
    'Description',
    's',
    `nsbox sandboxes of process ${pid}`,
    '0',
  ]
}

/** The name of the scope unit for process `pid`, unique across restarts of the manager. */
export function scopeUnitName(pid: number, now: number): string {
  return `nsbox-${pid}-${now.toString(36)}.scope`
}

/** Whether `/proc/self/cgroup` text says this process lives in the scope `unit` (or below). */
export function isInScope(procCgroup: string, unit: string): boolean {
  const unified = procCgroup.split('\n').find((line) => line.startsWith('0::'))
  return unified !== undefined && `${unified.slice(3)}/`.includes(`/${unit}/`)
}
