import { existsSync, readFileSync } from 'node:fs'
import type { UsernsHostSettings } from './userns-diagnosis.js'

function readNumber(file: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(file, 'utf8').trim(), 10)
    return Number.isNaN(value) ? undefined : value
  } catch {
    return undefined
  }
}

function seemsInContainer(): boolean {
  if (existsSync('/.dockerenv') || existsSync('/run/.containerenv')) return true
  try {
    return /docker|containerd|kubepods|libpod|lxc/.test(readFileSync('/proc/1/cgroup', 'utf8'))
  } catch {
    return false
  }
}

/** Reads the sysctls and surroundings that decide whether unprivileged user namespaces work. */
export function readUsernsHostSettings(): UsernsHostSettings {
  return {
    apparmorRestrict: readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    unprivilegedUsernsClone: readNumber('/proc/sys/kernel/unprivileged_userns_clone'),
    maxUserNamespaces: readNumber('/proc/sys/user/max_user_namespaces'),
    inContainer: seemsInContainer(),
  }
}
