import { describe, expect, it } from 'vitest'
import { isOwnerGone, type OwnIdentity, parseLeafName, parseStartTime } from './names.js'

const self: OwnIdentity = {
  pidNamespace: 4026531836,
  pid: 500,
  startTime: 9000,
  canCheckOwners: true,
}
const owner = { pidNamespace: 4026531836, pid: 42, startTime: 1234 }

describe('sandbox cgroup names', () => {
  it('record the owner: PID namespace, PID, start time', () => {
    expect(parseLeafName('nsbox-4026531836-42-1234-7')).toEqual(owner)
    expect(parseLeafName('nsbox-host')).toBeNull()
    // Names without a namespace say nothing about whose PIDs they hold.
    expect(parseLeafName('nsbox-42-1234-7')).toBeNull()
  })

  it('read the start time past a command name with spaces and parentheses', () => {
    expect(parseStartTime(`42 (a (b) c) S ${'0 '.repeat(18)}1234 0 0`)).toBe(1234)
    expect(parseStartTime('')).toBeNull()
  })
})

describe('isOwnerGone', () => {
  it('gone: no such process, or another process got its PID since', () => {
    expect(isOwnerGone(owner, self, 'gone')).toBe(true)
    expect(isOwnerGone(owner, self, 5678)).toBe(true)
    expect(isOwnerGone({ ...owner, pid: 500, startTime: 1 }, self, null)).toBe(true)
  })

  it('alive: the same start time, or this very process', () => {
    expect(isOwnerGone(owner, self, 1234)).toBe(false)
    expect(isOwnerGone({ ...owner, pid: 500, startTime: 9000 }, self, 'gone')).toBe(false)
  })

  it('never sure: an owner of another PID namespace, or a /proc that cannot be read', () => {
    expect(isOwnerGone({ ...owner, pidNamespace: 4026532180 }, self, 'gone')).toBe(false)
    expect(isOwnerGone(owner, self, null)).toBe(false)
    expect(isOwnerGone(owner, { ...self, canCheckOwners: false }, 'gone')).toBe(false)
  })
})
