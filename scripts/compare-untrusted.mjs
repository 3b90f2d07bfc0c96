// Runs the escape attempts of test/security against `nsbox run --untrusted` and against
// bubblewrap's usual setup, side by side, and prints the table docs/untrusted.md shows.
// Run it as an unprivileged user (not root) on a machine with bubblewrap installed. The
// fork and memory bombs are not run under bubblewrap, which has no cap to stop them.
import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../packages/core/dist/cli/main.js', import.meta.url))
const BWRAP = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp']
const BWRAP_USUAL = [...BWRAP, '--unshare-all', '--die-with-parent', '--new-session']

const scratch = mkdtempSync(path.join('/var/tmp', 'nsbox-compare-'))
const secret = path.join(os.homedir(), '.nsbox-compare-secret')
writeFileSync(secret, 'the secret\n')
const socketPath = path.join(scratch, 'service.sock')
const agentPath = path.join(scratch, 'agent.sock')
const abstract = `\0nsbox-compare-${process.pid}`
const servers = await Promise.all(
  [socketPath, agentPath, abstract, 0].map(
    (target) =>
      new Promise((resolve) => {
        const server = net.createServer((socket) => socket.end('reached\n'))
        if (target === 0) server.listen(0, '127.0.0.1', () => resolve(server))
        else server.listen(target, () => resolve(server))
      }),
  ),
)
const tcpPort = servers[3].address().port
// A descriptor this process leaves open without O_CLOEXEC, as fd 9 of each launcher.
const leakedFd = openSync(secret, 'r')
const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' })
const hostEnv = {
  ...process.env,
  SSH_AUTH_SOCK: agentPath,
  GITHUB_TOKEN: 'ghp-secret',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
}
const connect = (target) =>
  `${process.execPath} -e "require('node:net').connect(${target}).on('data', () => { console.log('REACHED'); process.exit() }).on('error', () => {})"`

// [attempt, shell command, whether the output shows the attempt failed]
const probes = [
  ['read a secret file in $HOME', `cat ${secret}`, (out) => !out.includes('the secret')],
  [
    'write to $HOME',
    `echo x > ${os.homedir()}/.nsbox-compare-write && echo WROTE`,
    (out) => !out.includes('WROTE'),
  ],
  ['write to /etc', 'echo x > /etc/nsbox-compare && echo WROTE', (out) => !out.includes('WROTE')],
  [
    'write to the project',
    `echo x > ${scratch}/planted && echo WROTE`,
    (out) => !out.includes('WROTE'),
  ],
  [
    'reach a host TCP listener on 127.0.0.1',
    connect(`${tcpPort}, '127.0.0.1'`),
    (out) => !out.includes('REACHED'),
  ],
  [
    'reach a host abstract UNIX socket',
    connect(JSON.stringify(abstract).replace(/"/g, "'")),
    (out) => !out.includes('REACHED'),
  ],
  [
    'reach a host filesystem UNIX socket',
    connect(`'${socketPath}'`),
    (out) => !out.includes('REACHED'),
  ],
  [
    'reach the ssh-agent socket',
    connect("process.env.SSH_AUTH_SOCK || '/nonexistent'"),
    (out) => !out.includes('REACHED'),
  ],
  [
    'signal a host process',
    `kill -0 ${sleeper.pid} 2>/dev/null && echo SEEN`,
    (out) => !out.includes('SEEN'),
  ],
  [
    'see an interface other than lo',
    "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | grep -v '^lo$'",
    (out) => out.trim() === '',
  ],
  [
    'mount a filesystem',
    'mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED',
    (out) => !out.includes('MOUNTED'),
  ],
  ['set the hostname', 'hostname evil 2>/dev/null && echo SET', (out) => !out.includes('SET')],
  [
    'hold a capability',
    "grep CapEff /proc/self/status | grep -v '0000000000000000'",
    (out) => out.trim() === '',
  ],
  [
    'escalate through a setuid binary',
    "grep NoNewPrivs /proc/self/status | grep -q '1$' || echo OPEN",
    (out) => !out.includes('OPEN'),
  ],
  [
    'read secret-looking variables',
    'env | grep -E "TOKEN|SECRET|AWS_"',
    (out) => out.trim() === '',
  ],
  [
    'write anything under /sys/fs/cgroup (its own limits)',
    'find /sys/fs/cgroup -writable 2>/dev/null | head -n 1 | grep -q . && echo WRITABLE',
    (out) => !out.includes('WRITABLE'),
  ],
  [
    "read PID 1's memory or environment",
    'cat /proc/1/environ >/dev/null 2>&1 && echo READ',
    (out) => !out.includes('READ'),
  ],
  [
    'see a terminal of the host in /dev/pts',
    'ls /dev/pts | grep -v ptmx | grep -q . && echo SEEN',
    (out) => !out.includes('SEEN'),
  ],
  [
    'read a descriptor the caller left open',
    'cat /proc/self/fd/9 2>/dev/null',
    (out) => !out.includes('the secret'),
  ],
  [
    'create a user namespace',
    'unshare --user true 2>/dev/null && echo CREATED',
    (out) => !out.includes('CREATED'),
  ],
  [
    'fill /tmp with 200 MB',
    'dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>/dev/null && echo FILLED',
    (out) => !out.includes('FILLED'),
  ],
]

// Asynchronous, so that this process's listeners above can answer a probe that reaches them.
const run = (launcher, command) =>
  new Promise((resolve) => {
    const child = spawn(launcher[0], [...launcher.slice(1), 'sh', '-c', command], {
      env: hostEnv,
      timeout: 30_000,
      stdio: [
        'pipe',
        'pipe',
        'pipe',
        'ignore',
        'ignore',
        'ignore',
        'ignore',
        'ignore',
        'ignore',
        leakedFd,
      ],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', () => resolve(output))
  })
const nsbox = [process.execPath, cli, 'run', '--untrusted', '--cwd', scratch, '--']
const bwrap = ['bwrap', ...BWRAP_USUAL, '--chdir', scratch, '--']
const mark = (contained) => (contained ? 'contained' : '**not contained**')

console.log(`| attempt | nsbox \`--untrusted\` | bubblewrap (\`${BWRAP_USUAL.join(' ')}\`) |`)
console.log('| --- | --- | --- |')
for (const [attempt, command, contained] of probes) {
  console.log(
    `| ${attempt} | ${mark(contained(await run(nsbox, command)))} | ${mark(contained(await run(bwrap, command)))} |`,
  )
}
// What ended nsbox's sandbox, from `nsbox run --json`.
const killedBy = async (command) => {
  const json = [process.execPath, cli, 'run', '--untrusted', '--json', '--cwd', scratch, '--']
  return JSON.parse(await run(json, command).then((out) => out.slice(out.indexOf('{')))).killedBy
}
const bomb = await killedBy('bomb() { bomb | bomb & }; bomb; sleep 30')
console.log(
  `| fork bomb | ${mark(bomb === 'pids')}: ended at the pids cap (128) | no cap: not run |`,
)
const hog = await killedBy(
  `${process.execPath} -e "const c = []; for (;;) c.push(Buffer.alloc(1 << 20, 1))"`,
)
console.log(
  `| memory bomb | ${mark(hog === 'memory')}: ended at the memory cap (512 MiB) | no cap: not run |`,
)
console.log(
  '| print gigabytes | contained: `run()` keeps 1 MiB, `truncated: true` | output is the caller’s to bound |',
)

sleeper.kill()
for (const server of servers) server.close()
rmSync(scratch, { recursive: true, force: true })
rmSync(secret, { force: true })
