import { describe, expect, it } from 'vitest'
import { describeExhaustion, type ExhaustionFacts, exhaustedErrno } from './exhaustion.js'

const facts: ExhaustionFacts = {
  openFilesLimit: 1024,
  processesLimit: 4096,
  fullPidsCgroup: null,
  runningLaunchers: 0,
}

describe('describeExhaustion', () => {
  it('EMFILE: the open-file limit, what holds descriptors, and how to raise it', () => {
    const error = describeExhaustion('EMFILE', { ...facts, runningLaunchers: 3 })
    expect(error).toMatchObject({
      code: 'ERR_RESOURCE_EXHAUSTED',
      resource: 'file-descriptors',
      errno: 'EMFILE',
    })
    expect(error.message).toBe(
      'nsbox: could not start a sandbox: this process has run out of file descriptors (EMFILE; its limit is 1024, and it has 3 sandbox launchers running, which hold up to 6 each). Raise the limit where the process starts (`ulimit -n 65536` in its shell, LimitNOFILE= in a systemd unit), or start fewer sandboxes at once.',
    )
  })

  it('EAGAIN: names a cgroup at its pids.max when there is one', () => {
    const error = describeExhaustion('EAGAIN', {
      ...facts,
      fullPidsCgroup: { dir: '/sys/fs/cgroup/pids/ci', max: 64 },
    })
    expect(error).toMatchObject({ resource: 'processes', errno: 'EAGAIN' })
    expect(error.message).toContain('/sys/fs/cgroup/pids/ci is at its pids.max of 64')
  })

  it('EAGAIN: else lists the limits that refuse a fork, with ulimit -u', () => {
    expect(describeExhaustion('EAGAIN', facts).message).toContain(
      "this user's process limit (`ulimit -u`, now 4096), a pids.max of this process's cgroup, or the system's kernel.threads-max or kernel.pid_max was reached",
    )
  })

  it('ENFILE is the whole system: fs.file-max', () => {
    expect(describeExhaustion('ENFILE', facts).message).toContain('fs.file-max')
  })
})

it('exhaustedErrno knows the errnos of running out, and nothing else', () => {
  expect(exhaustedErrno(Object.assign(new Error('x'), { code: 'EMFILE' }))).toBe('EMFILE')
  expect(exhaustedErrno(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBeNull()
  expect(exhaustedErrno(undefined)).toBeNull()
})
