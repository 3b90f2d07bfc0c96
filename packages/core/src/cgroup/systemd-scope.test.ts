import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readSystemdScopeFacts } from './systemd-scope.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

// A runtime directory like /run/user/UID, with the sockets' places as plain files.
function runtimeDir(entries: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nsbox-runtime-'))
  dirs.push(dir)
  for (const entry of entries) {
    mkdirSync(path.dirname(path.join(dir, entry)), { recursive: true })
    writeFileSync(path.join(dir, entry), '')
  }
  return dir
}

describe('readSystemdScopeFacts', () => {
  it('finds the user manager and the user bus in XDG_RUNTIME_DIR', () => {
    const dir = runtimeDir(['systemd/private', 'bus'])
    expect(readSystemdScopeFacts({ XDG_RUNTIME_DIR: dir })).toMatchObject({
      isTurnedOff: false,
      hasUserManager: true,
      hasUserBus: true,
    })
  })

  it('sees no manager without XDG_RUNTIME_DIR or its private socket', () => {
    expect(readSystemdScopeFacts({})).toMatchObject({ hasUserManager: false, hasUserBus: false })
    const dir = runtimeDir(['bus'])
    expect(readSystemdScopeFacts({ XDG_RUNTIME_DIR: dir }).hasUserManager).toBe(false)
  })

  it('follows DBUS_SESSION_BUS_ADDRESS to its socket', () => {
    const dir = runtimeDir(['systemd/private', 'elsewhere/bus'])
    const at = (address: string) =>
      readSystemdScopeFacts({ XDG_RUNTIME_DIR: dir, DBUS_SESSION_BUS_ADDRESS: address })
    expect(at(`unix:path=${dir}/elsewhere/bus`).hasUserBus).toBe(true)
    expect(at(`unix:path=${dir}/missing,guid=1`).hasUserBus).toBe(false)
  })

  it('is turned off by NSBOX_SYSTEMD_SCOPE=0 only', () => {
    expect(readSystemdScopeFacts({ NSBOX_SYSTEMD_SCOPE: '0' }).isTurnedOff).toBe(true)
    expect(readSystemdScopeFacts({ NSBOX_SYSTEMD_SCOPE: '1' }).isTurnedOff).toBe(false)
  })
})
