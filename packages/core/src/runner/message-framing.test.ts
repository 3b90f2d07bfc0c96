import { describe, expect, it } from 'vitest'
import { frameMessage, isInternalMessage, MessageReader } from './message-framing.js'

describe('MessageReader', () => {
  it.each(['advanced', 'json'] as const)('reads %s messages split across chunks', (mode) => {
    const reader = new MessageReader(mode, 1024)
    const bytes = Buffer.concat([frameMessage(mode, { a: 1 }), frameMessage(mode, ['b'])])
    const first = reader.push(bytes.subarray(0, 3))
    const rest = reader.push(bytes.subarray(3))
    expect([...first.messages, ...rest.messages]).toEqual([{ a: 1 }, ['b']])
    expect(rest.overflowBytes).toBeUndefined()
  })

  it('carries what only the advanced serialization can', () => {
    const reader = new MessageReader('advanced', 1024)
    const [message] = reader.push(frameMessage('advanced', new Map([[1, Buffer.from('hi')]])))
      .messages as [Map<number, Uint8Array>]
    expect(Buffer.from(message.get(1) as Uint8Array).toString()).toBe('hi')
  })

  it('reports a message over the cap from its header, before its body comes', () => {
    const reader = new MessageReader('advanced', 1024)
    const header = Buffer.alloc(4)
    header.writeUInt32BE(300 * 2 ** 20)
    expect(reader.push(header)).toEqual({ messages: [], overflowBytes: 300 * 2 ** 20 })
    expect(reader.push(Buffer.alloc(10))).toEqual({ messages: [] })
  })

  it('reports a JSON line over the cap while it is still coming', () => {
    const reader = new MessageReader('json', 16)
    expect(reader.push(Buffer.from('"0123456789')).overflowBytes).toBeUndefined()
    expect(reader.push(Buffer.from('0123456789')).overflowBytes).toBe(21)
  })
})

describe('isInternalMessage', () => {
  it("tells Node.js's own messages from the program's", () => {
    expect(isInternalMessage({ cmd: 'NODE_HANDLE' })).toBe(true)
    expect(isInternalMessage({ cmd: 'run' })).toBe(false)
    expect(isInternalMessage(null)).toBe(false)
  })
})
