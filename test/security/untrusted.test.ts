import { spawn } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { RunOptions } from '@nsbox/core'
import { dir } from 'tmp-promise'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { handToUser } from '../support/fixture-project.js'
import { uniqueMarker } from '../support/processes.js'
import { testUser } from '../support/test-user.js'
import {
  cliAsUser,
  describeWithSandboxes,
  runAsUser,
  sandboxAsUser,
} from '../support/unprivileged.js'

// Each escape attempt runs as its own test, as the unprivileged test user, under
// `untrusted: true`: it must be contained, and the host unharmed afterwards.

const marker = uniqueMarker('security')
const cleanups: Array<() => void | Promise<void>> = []
let scratch = '' // a directory outside the home directory, owned by the test user
let secretFile = ''
let socketPath = ''
let agentPath = ''
let tcpPort = 0
const abstractName = `\0nsbox-${marker}`

function listen(target: number | string, host?: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.end('reached the host\n'))
    server.once('error', reject)
    const ready = () => resolve(server)
    if (typeof target === 'number') server.listen(target, host, ready)
    else server.listen(target, ready)
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())))
  })
}

// Node.js inside the sandbox, printing what a probe found.
function probe(script: string, options: RunOptions = {}, hostEnv?: Record<string, string>) {
  return sandboxAsUser(
    process.execPath,
    ['-e', script],
    { untrusted: true, cwd: scratch, ...options },
    undefined,
    hostEnv,
  )
}

function shell(command: string, options: RunOptions = {}) {
  return sandboxAsUser('sh', ['-c', command], { untrusted: true, cwd: scratch, ...options })
}

// Connects to a TCP port or a UNIX socket path; prints what happened.
const connectScript = (target: string) => `
const net = require('node:net')
const socket = net.connect(${target})
socket.on('data', (data) => { process.stdout.write('connected: ' + data); socket.destroy() })
socket.on('error', (error) => process.stdout.write('refused: ' + error.code))
`

beforeAll(async () => {
  const user = testUser()
  const scratchDir = await dir({
    prefix: 'nsbox-security-',
    tmpdir: '/var/tmp',
    unsafeCleanup: true,
  })
  scratch = scratchDir.path
  cleanups.push(scratchDir.cleanup)
  writeFileSync(path.join(scratch, 'project-file'), 'original\n')
  await handToUser(scratch, user)
  secretFile = path.join(user.home, `.nsbox-secret-${marker}`)
  writeFileSync(secretFile, 'the secret\n')
  await handToUser(secretFile, user)
  cleanups.push(() => rmSync(secretFile, { force: true }))
  const sockets = await dir({ prefix: 'nsbox-sockets-', tmpdir: '/var/tmp', unsafeCleanup: true })
  cleanups.push(sockets.cleanup)
  chmodSync(sockets.path, 0o755)
  socketPath = path.join(sockets.path, 'service.sock')
  agentPath = path.join(sockets.path, 'agent.sock')
  await listen(socketPath)
  await listen(agentPath)
  chmodSync(socketPath, 0o777)
  chmodSync(agentPath, 0o777)
  await listen(abstractName)
  const tcp = await listen(0, '127.0.0.1')
  tcpPort = (tcp.address() as net.AddressInfo).port
})

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

await describeWithSandboxes('untrusted code', () => {
  it('cannot read a secret file in the home directory', async () => {
    const result = await shell(`cat ${secretFile}; ls -A ${testUser().home}`)
    expect(result.stdout).not.toContain('the secret')
    expect(result.stdout.trim()).toBe('') // the home directory is empty
  })

  it.each([
    ['the home directory', () => `${testUser().home}/planted`],
    ['/etc', () => '/etc/planted'],
    ['the project', () => path.join(scratch, 'project-file')],
  ])('cannot write to %s', async (_where, target) => {
    const result = await shell(`echo planted > ${target()}; echo status=$?`)
    expect(result.stdout).toContain('status=2')
    expect(result.stderr).toMatch(/Read-only file system/)
    expect(existsSync(path.join(scratch, 'planted'))).toBe(false)
  })

  it('cannot reach a TCP listener of the host on 127.0.0.1', async () => {
    const result = await probe(connectScript(`${tcpPort}, '127.0.0.1'`))
    expect(result.stdout).toMatch(/^refused: /)
  })

  it('cannot reach an abstract UNIX socket of the host', async () => {
    const result = await probe(connectScript(JSON.stringify(abstractName)))
    expect(result.stdout).toMatch(/^refused: /)
  })

  it('cannot reach a filesystem UNIX socket of the host, which it could reach unsandboxed', async () => {
    const open = await probe(connectScript(JSON.stringify(socketPath)), {
      untrusted: false,
      network: 'host',
    })
    expect(open.stdout).toBe('connected: reached the host\n') // the probe works
    const result = await probe(connectScript(JSON.stringify(socketPath)))
    expect(result.stdout).toMatch(/^refused: /)
  })

  it('cannot reach the ssh-agent socket SSH_AUTH_SOCK names', async () => {
    const script = `process.stdout.write(String(process.env.SSH_AUTH_SOCK) + '\\n');${connectScript(JSON.stringify(agentPath))}`
    const result = await probe(script, {}, { SSH_AUTH_SOCK: agentPath })
    expect(result.stdout).toMatch(/^undefined\nrefused: /)
  })

  it('can neither see nor signal a process of the host', async () => {
    const sleeper = spawn('sleep', ['60'], {
      stdio: 'ignore',
      uid: testUser().uid,
      gid: testUser().gid,
    })
    cleanups.push(() => void sleeper.kill('SIGKILL'))
    const result = await shell(
      `kill -0 ${sleeper.pid} 2>/dev/null; echo signal=$?; ls /proc | grep -c '^[0-9]'`,
    )
    expect(result.stdout).toMatch(/^signal=1\n/)
    expect(Number(result.stdout.split('\n')[1])).toBeLessThan(6) // its own few processes only
  })

  it('sees no network interface but loopback, and loopback down', async () => {
    const result = await shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
    expect(result.stdout.trim().split('\n')).toEqual(['lo'])
  })

  it('cannot mount, set the hostname or hold a capability', async () => {
    const result = await shell(
      'mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?; hostname evil 2>/dev/null; echo hostname=$?; hostname; grep -E "^Cap(Eff|Prm)" /proc/self/status',
    )
    expect(result.stdout).toMatch(/^mount=(?!0\n)\d+\n/)
    expect(result.stdout).not.toContain('hostname=0')
    expect(result.stdout).toContain('nsbox\n')
    expect(result.stdout).toMatch(/CapPrm:\s+0+\nCapEff:\s+0+/)
  })

  it('gains nothing from a setuid binary', async () => {
    const result = await shell(
      'grep NoNewPrivs /proc/self/status; su -c id root </dev/null 2>&1; id -u',
    )
    expect(result.stdout).toMatch(/NoNewPrivs:\s+1/)
    expect(result.stdout).not.toContain('uid=0')
    expect(result.stdout.trim().split('\n').at(-1)).toBe(String(testUser().uid))
  })

  it('sees none of the host environment’s secrets', async () => {
    const secrets = {
      GITHUB_TOKEN: 'ghp-secret',
      AWS_ACCESS_KEY_ID: 'AKIA-secret',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      NPM_TOKEN: 'npm-secret',
      DEPLOY_SECRET: 'deploy-secret',
    }
    const result = await probe('process.stdout.write(JSON.stringify(process.env))', {}, secrets)
    const env = JSON.parse(result.stdout)
    for (const key of Object.keys(secrets)) expect(env).not.toHaveProperty(key)
    expect(result.stdout).not.toMatch(/secret/)
  })

  it('keeps a fork bomb under its pids cap, ends it, and leaves the host responsive', async () => {
    const result = await shell('bomb() { bomb | bomb & }; bomb; sleep 30', { timeout: '10s' })
    expect(['pids', 'timeout']).toContain(result.killedBy)
    expect(result.pidsPeak ?? 0).toBeLessThanOrEqual(128)
    const after = await shell('echo alive')
    expect(after.stdout).toBe('alive\n')
  })

  it('ends a memory bomb at its memory cap', async () => {
    const result = await probe('const chunks = []; for (;;) chunks.push(Buffer.alloc(1 << 20, 1))')
    expect(result.killedBy).toBe('memory')
  })

  it('fills only its own small /tmp', async () => {
    const name = `fill-${marker}`
    const result = await shell(
      `dd if=/dev/zero of=/tmp/${name} bs=1M count=200 2>&1; ls -l /tmp/${name}`,
    )
    expect(result.stdout).toMatch(/No space left on device/)
    expect(existsSync(`/tmp/${name}`)).toBe(false)
  })

  it('hides what a symbolic link points to, and leaves nothing behind on the host', async () => {
    const hidden = await dir({ prefix: 'nsbox-hide-', tmpdir: '/var/tmp', unsafeCleanup: true })
    cleanups.push(hidden.cleanup)
    writeFileSync(path.join(hidden.path, 'token'), 'the token\n')
    symlinkSync(path.join(hidden.path, 'token'), path.join(hidden.path, 'link'))
    await handToUser(hidden.path, testUser())
    const before = readdirSync(hidden.path).sort()
    const result = await shell(`cat ${hidden.path}/token; cat ${hidden.path}/link; echo done`, {
      untrusted: false,
      hide: [path.join(hidden.path, 'link')],
    })
    expect(result.stdout).toBe('done\n')
    expect(readdirSync(hidden.path).sort()).toEqual(before)
  })

  it('hides a secret inside a writable directory', async () => {
    writeFileSync(path.join(scratch, '.env'), 'API_TOKEN=secret\n')
    const result = await shell(
      `cat ${scratch}/.env; echo written > ${scratch}/out && cat ${scratch}/out`,
      {
        rw: [scratch],
        hide: [path.join(scratch, '.env')],
      },
    )
    expect(result.stdout).toBe('written\n')
  })

  it('binds an ro path read-only, even without readOnly', async () => {
    const result = await shell(
      `cat ${scratch}/project-file; echo changed > ${scratch}/project-file`,
      {
        untrusted: false,
        ro: [scratch],
      },
    )
    expect(result.stdout).toBe('original\n')
    expect(result.stderr).toMatch(/Read-only file system/)
  })

  it('names a policy path this user cannot reach, and how to fix it', async () => {
    const closed = await dir({ prefix: 'nsbox-closed-', tmpdir: '/var/tmp', unsafeCleanup: true })
    cleanups.push(closed.cleanup)
    chmodSync(closed.path, 0o700) // root's own, not searchable by the test user
    const report = await runAsUser('true', [], { hide: [path.join(closed.path, 'secret')] })
    expect(report).toMatchObject({
      error: {
        code: 'ERR_INVALID_OPTION',
        option: 'hide',
        message: expect.stringMatching(
          /cannot be reached by this user \(EACCES\)\. Make it and its parent directories searchable/,
        ),
      },
    })
  })

  it('takes the policy from nsbox run flags, and names a path that does not exist', async () => {
    const result = await cliAsUser([
      'run',
      '--untrusted',
      '--cwd',
      scratch,
      '--json',
      '--',
      'sh',
      '-c',
      `cat ${secretFile}; echo planted > planted`,
    ])
    const report = JSON.parse(result.stdout)
    expect(report.stdout).not.toContain('the secret')
    expect(report.stderr).toMatch(/Read-only file system/)
    const missing = await cliAsUser(['run', '--hide', `/nonexistent-${marker}`, '--', 'true'])
    expect(missing.exitCode).toBe(125)
    expect(missing.stderr).toContain(`The \`hide\` path /nonexistent-${marker} does not exist`)
  })

  it('prints gigabytes into a capped, truncated output', async () => {
    const result = await shell('head -c 2000000000 /dev/zero', { timeout: '60s' })
    expect(result.truncated).toBe(true)
    expect(result.stdout.length).toBeLessThanOrEqual(1024 ** 2)
    expect(result.exitCode).toBe(0)
  })
})
