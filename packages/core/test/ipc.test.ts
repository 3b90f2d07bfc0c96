import { expect, it } from 'vitest'
import {
  describeWithSandboxes,
  ipcRoundTripAsUser,
  processShapeAsUser,
} from '../../../test/support/unprivileged.js'

await describeWithSandboxes('spawn() with an IPC channel', () => {
  it('carries messages both ways with advanced serialization', async () => {
    expect(await ipcRoundTripAsUser()).toEqual({ isMap: true, answer: '42', exitCode: 0 })
  })

  it('disconnect() in the caller closes the channel: the child ends, and so does the sandbox', async () => {
    expect(await ipcRoundTripAsUser('parent')).toEqual({
      isMap: true,
      answer: '42',
      exitCode: 0,
    })
  })

  it("is shaped like a ChildProcess: 'exit' gives (code, signal), send() without a channel is ERR_INVALID_OPTION", async () => {
    const shape = await processShapeAsUser()
    expect(shape.exitArgs).toEqual([3, null])
    expect(shape.sendError).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'stdio' })
  })
})
