import { expect, it } from 'vitest'
import {
  describeWithSandboxes,
  runConcurrentlyAsUser,
  sandboxAsUser,
} from '../../../test/support/unprivileged.js'

const interfaces = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"

// Binds a port, connects to it from the same sandbox, and holds it for a while so
// that concurrent sandboxes overlap.
const serveAndConnect = `
const net = require('node:net')
const server = net.createServer((socket) => socket.end('pong'))
server.listen(41234, '127.0.0.1', () => {
  net.connect(41234, '127.0.0.1').on('data', (data) => {
    console.log(String(data))
    setTimeout(() => server.close(), 300)
  })
})`

await describeWithSandboxes('network policy', () => {
  it('loopback (default): only lo, and it is up', async () => {
    const result = await sandboxAsUser('sh', [
      '-c',
      `${interfaces}; cat /sys/class/net/lo/operstate`,
    ])
    expect(result.stdout.trim().split('\n')).toEqual(['lo', 'unknown'])
  })

  it('loopback: a server on 127.0.0.1 is reachable from inside', async () => {
    const result = await sandboxAsUser(process.execPath, ['-e', serveAndConnect])
    expect(result.stdout.trim()).toBe('pong')
  })

  it('loopback: two sandboxes bind the same port at the same time', async () => {
    const reports = await runConcurrentlyAsUser([
      { file: process.execPath, args: ['-e', serveAndConnect] },
      { file: process.execPath, args: ['-e', serveAndConnect] },
    ])
    for (const report of reports) {
      expect(report).toMatchObject({ exitCode: 0, stdout: 'pong\n' })
    }
  })

  it('none: lo is down, so nothing can be reached', async () => {
    const result = await sandboxAsUser(
      process.execPath,
      ['-e', "require('node:net').connect(9, '127.0.0.1').on('error', (e) => console.log(e.code))"],
      { network: 'none' },
    )
    expect(result.stdout.trim()).toBe('ENETUNREACH')
  })

  it('host: shares the host’s interfaces', async () => {
    const { readFileSync } = await import('node:fs')
    const hostInterfaces = readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .filter(Boolean).length
    const result = await sandboxAsUser('sh', ['-c', interfaces], { network: 'host' })
    expect(result.stdout.trim().split('\n')).toHaveLength(hostInterfaces)
  })
})
