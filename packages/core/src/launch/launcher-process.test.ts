import { describe, expect, it } from 'vitest'
import type { CgroupShape } from '../cgroup/sandbox-cgroup.js'
import { type LaunchShape, shapeKey } from './launcher-process.js'

const shape: LaunchShape = {
  network: 'loopback',
  stdio: ['ignore', 'pipe', 'pipe'],
  ipc: false,
  serialization: 'json',
  cgroup: null,
}
const memoryCgroup: CgroupShape = {
  bases: {
    backend: 'cgroup1',
    bases: { memory: '/sys/fs/cgroup/memory/nsbox/user-1000' },
    limits: new Set(['memory']),
  },
  controllers: ['memory'],
}

describe('shapeKey', () => {
  it('matches launches whose launcher would be started the same way', () => {
    expect(shapeKey({ ...shape, network: 'none' })).toBe(shapeKey(shape))
  })

  it('tells apart what the launcher is started with', () => {
    const shapes: LaunchShape[] = [
      shape,
      { ...shape, network: 'host' },
      { ...shape, stdio: ['pipe', 'pipe', 'pipe'] },
      { ...shape, ipc: true },
      { ...shape, ipc: true, serialization: 'advanced' },
      { ...shape, cgroup: memoryCgroup },
      { ...shape, cgroup: { ...memoryCgroup, controllers: ['memory', 'pids'] } },
    ]
    const keys = shapes.map(shapeKey)
    expect(new Set(keys).size).toBe(keys.length)
  })
})
