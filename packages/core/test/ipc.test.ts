import { expect, it } from 'vitest'
import { describeWithSandboxes, ipcRoundTripAsUser } from '../../../test/support/unprivileged.js'

await describeWithSandboxes('spawn() with an IPC channel', () => {
  it('carries messages both ways with advanced serialization', async () => {
    expect(await ipcRoundTripAsUser()).toEqual({ isMap: true, answer: '42', exitCode: 0 })
  })
})
