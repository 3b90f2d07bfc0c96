import type { UsernsBlocker } from '../errors.js'

/** Kernel settings and surroundings that decide whether unprivileged user namespaces work. */
export interface UsernsHostSettings {
  /** `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu 23.10+), if present. */
  apparmorRestrict: number | undefined
  /** `kernel.unprivileged_userns_clone` (Debian ≤ 10 and some hardened kernels), if present. */
  unprivilegedUsernsClone: number | undefined
  /** `user.max_user_namespaces`, if present. */
  maxUserNamespaces: number | undefined
  /** Whether this process seems to run inside a container (Docker, Podman, Kubernetes). */
  inContainer: boolean
}

/** What blocks user namespaces and the command that fixes it. */
export interface UsernsDiagnosis {
  blockedBy: UsernsBlocker
  message: string
  fix: string
}

const FIXES: Record<UsernsBlocker, { message: string; fix: string }> = {
  apparmor: {
    message:
      'user namespaces are blocked by AppArmor (kernel.apparmor_restrict_unprivileged_userns=1)',
    fix: 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or give the unshare binary an AppArmor profile that allows `userns,`)',
  },
  unprivileged_userns_clone: {
    message: 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)',
    fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1',
  },
  max_user_namespaces: {
    message: 'user namespaces are disabled (user.max_user_namespaces=0)',
    fix: 'sudo sysctl -w user.max_user_namespaces=15000',
  },
  container: {
    message:
      "this container's seccomp or AppArmor profile blocks user namespaces or mounting /proc",
    fix: 'start the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined',
  },
  unknown: {
    message: 'user namespaces could not be created',
    fix: 'run `nsbox doctor` to see what this host supports',
  },
}

/**
 * Decides why the launcher could not create the sandbox's namespaces, from what
 * `unshare` printed and the host's settings. Pure: the caller reads the settings.
 */
export function diagnoseUsernsFailure(
  launcherOutput: string,
  host: UsernsHostSettings,
): UsernsDiagnosis {
  const blockedBy = findBlocker(launcherOutput, host)
  const { message, fix } = FIXES[blockedBy]
  const detail = launcherOutput.trim().split('\n').at(-1)
  return {
    blockedBy,
    message: blockedBy === 'unknown' && detail ? `${message} (${detail})` : message,
    fix,
  }
}

function findBlocker(output: string, host: UsernsHostSettings): UsernsBlocker {
  if (host.maxUserNamespaces === 0 || /No space left on device/i.test(output))
    return 'max_user_namespaces'
  if (host.unprivilegedUsernsClone === 0) return 'unprivileged_userns_clone'
  const mapWriteFailed =
    /(uid_map|gid_map|setgroups).*(Operation not permitted|Permission denied)/i.test(output)
  if (
    host.apparmorRestrict === 1 &&
    (mapWriteFailed || /Permission denied|Operation not permitted/i.test(output))
  ) {
    return 'apparmor'
  }
  if (host.inContainer && /Operation not permitted|Permission denied/i.test(output))
    return 'container'
  return 'unknown'
}

/**
 * Recognises `unshare` failing to create or enter the sandbox's namespaces: the
 * unshare(2) call itself, the uid and gid maps, and the mounts it makes there. Not its
 * other failures (a fork refused, an init killed), which say nothing about user namespaces.
 */
export function isUsernsFailure(launcherOutput: string): boolean {
  return /^unshare: (unshare failed|write failed \/proc\/self\/|cannot open \/proc\/self\/|mount \/proc failed|cannot change root filesystem propagation)/m.test(
    launcherOutput,
  )
}
