import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import net from 'node:net'
import { constants } from 'node:os'
import path from 'node:path'
import type { RunOptions } from '@nsbox/core'
import { expect, it, vi } from 'vitest'
import { fileCleanups } from '../support/cleanups.js'
import { handToUser } from '../support/fixture-project.js'
import {
  openPtyAsUser,
  type ProbedSyscall,
  serveUnixSocketAsUser,
  syscallNumber,
} from '../support/host-setups.js'
import { uniqueMarker } from '../support/processes.js'
import { testUser } from '../support/test-user.js'
import { describeWithSandboxes, runAsUser, sandboxAsUser } from '../support/unprivileged.js'

// Escapes that `untrusted: true` must contain, each inside a real sandbox of the
// unprivileged test user: host sockets found by place, the host's devices and terminals,
// and the system calls seccomp must deny.

const marker = uniqueMarker('escape')
const { cleanups, userDir } = fileCleanups()

function shell(command: string, options: RunOptions = {}, hostEnv?: Record<string, string>) {
  return sandboxAsUser(
    'sh',
    ['-c', command],
    { untrusted: true, cwd: '/', ...options },
    undefined,
    hostEnv,
  )
}

// Node.js code that connects to a UNIX socket and prints what happened. The path is in the
// code, as untrusted code would have it, not an argument nsbox could see.
const connectTo = (socketPath: string) => `
const socket = require('node:net').connect(${JSON.stringify(socketPath)})
socket.on('data', (data) => { process.stdout.write('connected: ' + data); socket.destroy() })
socket.on('error', (error) => process.stdout.write('refused: ' + error.code + '\\n'))
`

function connectFromInside(socketPath: string, options: RunOptions = {}, hostEnv = {}) {
  return sandboxAsUser(
    process.execPath,
    ['-e', connectTo(socketPath)],
    { untrusted: true, cwd: '/', ...options },
    undefined,
    hostEnv,
  )
}

const REFUSED = /^refused: (ENOENT|ECONNREFUSED|EACCES)\n$/

await describeWithSandboxes('UNIX sockets hidden by place, not by name', () => {
  it('a socket in the user’s runtime directory', async () => {
    const user = testUser()
    const runtimeDir = `/run/user/${user.uid}`
    if (!existsSync(runtimeDir)) {
      mkdirSync(runtimeDir, { recursive: true, mode: 0o700 })
      cleanups.push(() => rmSync(runtimeDir, { recursive: true, force: true }))
    }
    chownSync(runtimeDir, user.uid, user.gid)
    chmodSync(runtimeDir, 0o700)
    const socketPath = path.join(runtimeDir, `nsbox-${marker}.sock`)
    cleanups.push(() => rmSync(socketPath, { force: true }))
    const server = await serveUnixSocketAsUser(socketPath)
    cleanups.push(server.stop)
    const hostEnv = { XDG_RUNTIME_DIR: runtimeDir }
    const open = await connectFromInside(socketPath, { untrusted: false }, hostEnv)
    expect(open.stdout).toBe('connected: reached the host\n') // the probe works
    const result = await connectFromInside(socketPath, {}, hostEnv)
    expect(result.stdout).toMatch(REFUSED)
  })

  it('a socket whose path holds a space', async () => {
    const socketPath = path.join(await userDir('/var/tmp', 'nsbox-sockets-'), 'with space.sock')
    cleanups.push((await serveUnixSocketAsUser(socketPath)).stop)
    const result = await connectFromInside(socketPath)
    expect(result.stdout).toMatch(REFUSED)
  })

  it('a socket renamed after it was bound', async () => {
    const sockets = await userDir('/var/tmp', 'nsbox-sockets-')
    cleanups.push((await serveUnixSocketAsUser(path.join(sockets, 'bound.sock'))).stop)
    renameSync(path.join(sockets, 'bound.sock'), path.join(sockets, 'renamed.sock'))
    const result = await connectFromInside(path.join(sockets, 'renamed.sock'))
    expect(result.stdout).toMatch(REFUSED)
  })

  it('a socket made after the sandbox started', async () => {
    const sockets = await userDir('/var/tmp', 'nsbox-sockets-')
    const barrier = await userDir('/var/tmp', 'nsbox-barrier-')
    const socketPath = path.join(sockets, 'late.sock')
    execFileSync('mkfifo', [path.join(barrier, 'go')])
    await handToUser(barrier, testUser())
    // The sandbox says it has started, waits for "go" on the fifo, then connects.
    const running = sandboxAsUser(
      'sh',
      [
        '-c',
        'echo started > "$1/started" && read go < "$1/go" && exec "$2" -e "$3"',
        'sh',
        barrier,
        process.execPath,
        connectTo(socketPath),
      ],
      { untrusted: true, cwd: '/', rw: [barrier] },
    )
    await vi.waitFor(() => expect(existsSync(path.join(barrier, 'started'))).toBe(true), {
      timeout: 20_000,
    })
    cleanups.push((await serveUnixSocketAsUser(socketPath)).stop)
    // Non-blocking: the open fails (ENXIO) until the sandbox has the fifo open to read.
    const go = await vi.waitFor(() =>
      openSync(path.join(barrier, 'go'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK),
    )
    writeSync(go, 'go\n')
    closeSync(go)
    const result = await running
    expect(result.stdout).toMatch(REFUSED)
  })

  it('a socket anywhere under /run', async () => {
    const runDir = `/run/nsbox-test-${marker}`
    mkdirSync(runDir, { mode: 0o777 })
    chmodSync(runDir, 0o777)
    cleanups.push(() => rmSync(runDir, { recursive: true, force: true }))
    const socketPath = path.join(runDir, 'service.sock')
    const server = net.createServer((socket) => socket.end('reached the host\n'))
    await new Promise<void>((resolve) => server.listen(socketPath, resolve))
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())))
    chmodSync(socketPath, 0o777) // the test user could connect
    const open = await connectFromInside(socketPath, { untrusted: false })
    expect(open.stdout).toBe('connected: reached the host\n') // the probe works
    const result = await connectFromInside(socketPath)
    expect(result.stdout).toMatch(REFUSED)
  })

  it('a socket next to a working directory under /tmp', async () => {
    const top = await userDir('/tmp', 'nsbox-escape-')
    mkdirSync(path.join(top, 'work'))
    await handToUser(top, testUser())
    const socketPath = path.join(top, 'sock')
    cleanups.push((await serveUnixSocketAsUser(socketPath)).stop)
    const result = await connectFromInside(socketPath, { cwd: path.join(top, 'work') })
    expect(result.stdout).toMatch(REFUSED)
  })
})

await describeWithSandboxes('a minimal /dev under untrusted', () => {
  it('holds no host device, a fresh /dev/pts, and the usual nodes that work', async () => {
    const pty = await openPtyAsUser()
    cleanups.push(pty.stop)
    const result = await shell(
      `echo "dev: $(ls /dev | tr '\\n' ' ')"
echo "pts: $(ls /dev/pts | tr '\\n' ' ')"
if [ -e ${pty.path} ]; then echo "host pty=visible"; else echo "host pty=invisible"; fi
if (echo hello > ${pty.path}) 2>/dev/null; then echo "host pty=written"; fi
echo discarded > /dev/null && echo "null=ok"
echo "urandom=$(head -c 16 /dev/urandom | wc -c)"
perl -e 'open(my $master, "+<", "/dev/ptmx") or die "ptmx=$!\\n"; print "ptmx=ok\\n"'`,
    )
    const dev = (/^dev: (.*)$/m.exec(result.stdout)?.[1] ?? '').trim().split(' ')
    expect(dev).toContain('null')
    const hostDevices = dev.filter((name) =>
      /^(sd|vd|xvd|hd|nvme|mmcblk|loop|zram|dm-|md)|^(kvm|fuse|mem|kmem|port|kmsg|vsock|userfaultfd|btrfs-control|mapper|net|cpu)$|^tty(S?\d+)$|^vcs/.test(
        name,
      ),
    )
    expect(hostDevices).toEqual([])
    expect(result.stdout).toMatch(/^pts: (ptmx )?$/m)
    expect(result.stdout).toContain('host pty=invisible\n')
    expect(result.stdout).not.toContain('host pty=written')
    expect(result.stdout).toContain('null=ok\n')
    expect(result.stdout).toContain('urandom=16\n')
    expect(result.stdout).toContain('ptmx=ok\n')
  })
})

// Makes each system call with arguments that work, or fail with another errno (noted),
// when nothing filters it; prints "name=errno", 0 when it worked.
const SYSCALL_PROBE = `
my %number = map { split /=/ } @ARGV;
my ($type, $description, $payload) = ('user', 'nsbox-probe', 'x');
my %calls = (
  unshare => sub { syscall($number{unshare}, 0x10000000) },    # CLONE_NEWUSER
  keyctl => sub { syscall($number{keyctl}, 0, -3, 0) },    # KEYCTL_GET_KEYRING_ID, session
  add_key => sub { syscall($number{add_key}, $type, $description, $payload, 1, -1) },    # thread keyring
  bpf => sub { syscall($number{bpf}, 999, 0, 0) },    # EINVAL: no such command
  perf_event_open => sub { syscall($number{perf_event_open}, 0, 0, -1, -1, 0) },    # EFAULT
  userfaultfd => sub { syscall($number{userfaultfd}, 1) },    # UFFD_USER_MODE_ONLY
  ptrace => sub { syscall($number{ptrace}, 3, getppid(), 0, 0) },    # ESRCH: not traced
  mount => sub { syscall($number{mount}, 0, 0, 1, 0, 0) },    # EFAULT: bad type pointer
  setns => sub { syscall($number{setns}, -1, 0) },    # EBADF
  io_uring_setup => sub { syscall($number{io_uring_setup}, 1, 0) },    # EFAULT
  clone3 => sub { syscall($number{clone3}, 0, 0) },    # EINVAL: size 0
);
for my $name (sort keys %calls) {
  $! = 0;
  my $returned = $calls{$name}->();
  print "$name=", ($returned == -1 ? 0 + $! : 0), "\\n";
}
`

// What seccomp answers each probed system call with.
const DENIED = {
  unshare: 'EPERM',
  keyctl: 'EPERM',
  add_key: 'EPERM',
  bpf: 'EPERM',
  perf_event_open: 'EPERM',
  userfaultfd: 'EPERM',
  ptrace: 'EPERM',
  mount: 'EPERM',
  setns: 'EPERM',
  io_uring_setup: 'ENOSYS',
  clone3: 'ENOSYS',
} as const

const errnoNames = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]))

function syscallOutcomes(stdout: string): Record<string, string> {
  return Object.fromEntries(
    [...stdout.matchAll(/^(\w+)=(\d+)$/gm)].map(([, name, errno]) => [
      name,
      errno === '0' ? 'worked' : (errnoNames.get(Number(errno)) ?? `errno ${errno}`),
    ]),
  )
}

const seccompModes: Array<[string, RunOptions]> = [
  ['untrusted', { untrusted: true }],
  ['seccomp: true in the default mode', { seccomp: true } as RunOptions],
]

await describeWithSandboxes('seccomp', () => {
  it.each(seccompModes)(
    'under %s, denies what widens the kernel’s surface',
    async (_m, options) => {
      const numbers = (Object.keys(DENIED) as ProbedSyscall[]).map(
        (name) => `${name}=${syscallNumber(name)}`,
      )
      const report = await runAsUser('perl', ['-e', SYSCALL_PROBE, ...numbers], {
        cwd: '/',
        ...options,
      })
      expect(report).not.toHaveProperty('error')
      expect(syscallOutcomes((report as { stdout: string }).stdout)).toEqual(DENIED)
    },
  )

  it.each(seccompModes)('under %s, ordinary work still runs', async (_m, options) => {
    const report = await runAsUser(
      'sh',
      [
        '-c',
        "true | cat && echo pipe=ok; \"$1\" -e \"require('node:child_process').execFileSync('true'); console.log('node=ok')\"; unshare -U true 2>/dev/null; echo unshare=$?",
        'sh',
        process.execPath,
      ],
      { cwd: '/', ...options },
    )
    expect(report).toMatchObject({ exitCode: 0 })
    const { stdout } = report as { stdout: string }
    expect(stdout).toContain('pipe=ok\nnode=ok\n')
    expect(stdout).toMatch(/^unshare=[1-9]\d*$/m)
  })

  it('is off in the default mode: nested sandboxes still work', async () => {
    const result = await sandboxAsUser(
      'sh',
      ['-c', 'unshare --user --map-root-user id -u; echo unshare=$?'],
      { cwd: '/' },
    )
    expect(result.stdout).toBe('0\nunshare=0\n')
  })
})
