// What the attack tests set up on the host as the test user before a sandbox starts: the
// system call numbers their probes use, descriptors left open, a session key, a UNIX
// listener, a terminal.
import { closeSync, openSync } from 'node:fs'
import type { RunOptions } from '@nsbox/core'
import { execa, type Options, type ResultPromise } from 'execa'
import { type TestUser, testUser } from './test-user.js'
import { childScript, type RunReport } from './unprivileged.js'

/** System call numbers the security probes pass to Perl's `syscall()`, by `process.arch`. */
const SYSCALL_NUMBERS = {
  x64: {
    add_key: 248,
    bpf: 321,
    clone3: 435,
    io_uring_setup: 425,
    keyctl: 250,
    mount: 165,
    perf_event_open: 298,
    pidfd_getfd: 438,
    pidfd_open: 434,
    ptrace: 101,
    setns: 308,
    unshare: 272,
    userfaultfd: 323,
  },
  arm64: {
    add_key: 217,
    bpf: 280,
    clone3: 435,
    io_uring_setup: 425,
    keyctl: 219,
    mount: 40,
    perf_event_open: 241,
    pidfd_getfd: 438,
    pidfd_open: 434,
    ptrace: 117,
    setns: 268,
    unshare: 97,
    userfaultfd: 282,
  },
} as const

/** A system call the security probes make. */
export type ProbedSyscall = keyof (typeof SYSCALL_NUMBERS)['x64']

/** The number of a system call on this machine's architecture (x86_64 or aarch64). */
export function syscallNumber(name: ProbedSyscall): number {
  const table = SYSCALL_NUMBERS[process.arch as keyof typeof SYSCALL_NUMBERS]
  if (!table) throw new Error(`no system call numbers for ${process.arch} in the test support`)
  return table[name]
}

function helperEnv(user: TestUser, hostEnv: Record<string, string> = {}): Record<string, string> {
  return { ...hostEnv, HOME: user.home, USER: user.name, LOGNAME: user.name }
}

/**
 * Like {@link runAsUser}, with host files open in the process that calls `run`, at the
 * given descriptors and without O_CLOEXEC, as a careless caller holds them:
 * `{ 20: '/path/to/secret' }`. The files are opened by this (test) process, so the
 * helper holds them even when it could not open them itself. Use descriptors from 16 up:
 * Node.js marks 3-15 close-on-exec as it starts, so the helper would never pass them on.
 */
export async function runWithOpenFilesAsUser(
  file: string,
  args: string[],
  options: RunOptions,
  openFiles: Record<number, string>,
  user: TestUser = testUser(),
): Promise<RunReport> {
  const opened = Object.entries(openFiles).map(
    ([at, filePath]) => [Number(at), openSync(filePath, 'r')] as const,
  )
  try {
    const stdio: Array<'pipe' | 'ignore' | number> = ['pipe', 'pipe', 'pipe']
    for (const [at, fd] of opened) {
      while (stdio.length <= at) stdio.push('ignore')
      stdio[at] = fd
    }
    const child = await execa(
      process.execPath,
      [childScript, JSON.stringify({ mode: 'run', file, args, options })],
      {
        uid: user.uid,
        gid: user.gid,
        env: helperEnv(user),
        reject: false,
        // execa hands a descriptor number to the child as it is; its types list only 3-9.
        stdio: stdio as unknown as Options['stdio'],
      },
    )
    if (child.exitCode !== 0)
      throw new Error(`the sandbox helper failed (${child.exitCode}): ${child.stderr}`)
    return JSON.parse(String(child.stdout)) as RunReport
  } finally {
    for (const [, fd] of opened) closeSync(fd)
  }
}

// Runs as the test user before the helper: joins a fresh anonymous session keyring (so
// that nothing lands in the keyring the test process passed on), adds a `user` key to
// it, and execs the helper with the key's id in NSBOX_TEST_KEY_ID.
const WITH_SESSION_KEY = `
my ($keyctl, $add_key, $description, $payload, @command) = @ARGV;
syscall($keyctl, 1, 0) >= 0 or die "keyctl(KEYCTL_JOIN_SESSION_KEYRING): $!\\n";
my $type = 'user';
my $id = syscall($add_key, $type, $description, $payload, length $payload, -3);
$id >= 0 or die "add_key: $!\\n";
$ENV{NSBOX_TEST_KEY_ID} = $id;
exec { $command[0] } @command or die "exec: $!\\n";
`

/** What {@link runWithSessionKeyAsUser} reports. */
export interface SessionKeyReport {
  report: RunReport
  /** The id of the key the helper added before it started the sandbox. */
  keyId: number
  /** `KEYCTL_DESCRIBE` of every key in the helper's session keyring after the run. */
  sessionKeys: string[]
}

/**
 * Runs `run(file, args, options)` as the test user in a helper that first added a `user`
 * key (`description`, `payload`) to a session keyring of its own. Every `{key id}` in
 * `args` becomes that key's id. Reports the helper's session keyring after the run.
 */
export function runWithSessionKeyAsUser(
  file: string,
  args: string[],
  options: RunOptions,
  key: { description: string; payload: string },
  user: TestUser = testUser(),
): Promise<SessionKeyReport> {
  const request = { mode: 'keyring', file, args, options, keyctl: syscallNumber('keyctl') }
  return execa(
    'perl',
    [
      '-e',
      WITH_SESSION_KEY,
      String(syscallNumber('keyctl')),
      String(syscallNumber('add_key')),
      key.description,
      key.payload,
      process.execPath,
      childScript,
      JSON.stringify(request),
    ],
    { uid: user.uid, gid: user.gid, env: helperEnv(user), reject: false },
  ).then((child) => {
    if (child.exitCode !== 0)
      throw new Error(`the keyring helper failed (${child.exitCode}): ${child.stderr}`)
    return JSON.parse(child.stdout) as SessionKeyReport
  })
}

const SERVE_UNIX_SOCKET = `
const net = require('node:net')
net
  .createServer((socket) => socket.end('reached the host\\n'))
  .listen(process.argv[1], () => process.stdout.write('listening\\n'))
`

/** A process of the test user that runs until {@link UserProcess.stop}. */
export interface UserProcess {
  stop: () => Promise<void>
}

function startedAsUser(
  child: ResultPromise,
  isReady: (output: string) => RegExpExecArray | null,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += String(chunk)
      const match = isReady(output)
      if (match) resolve(match)
    })
    child.then(
      (result) => reject(new Error(`the process ended before it was ready: ${result.stderr}`)),
      reject,
    )
  })
}

function stopper(child: ResultPromise): () => Promise<void> {
  return async () => {
    child.kill('SIGKILL')
    await child.catch(() => {})
  }
}

/**
 * Serves a filesystem UNIX socket at `socketPath` from a process of the test user (so the
 * socket is the user's own), answering every connection with "reached the host\n".
 * Resolves once it listens.
 */
export async function serveUnixSocketAsUser(
  socketPath: string,
  user: TestUser = testUser(),
): Promise<UserProcess> {
  const child = execa(process.execPath, ['-e', SERVE_UNIX_SOCKET, socketPath], {
    uid: user.uid,
    gid: user.gid,
    env: helperEnv(user),
    reject: false,
  })
  await startedAsUser(child, (output) => /^listening$/m.exec(output))
  return { stop: stopper(child) }
}

/**
 * Opens a pseudo-terminal on the host in a process of the test user (util-linux
 * `script`), as a terminal session of that user would; resolves with its `/dev/pts` path.
 */
export async function openPtyAsUser(
  user: TestUser = testUser(),
): Promise<UserProcess & { path: string }> {
  const child = execa('script', ['-qfc', 'tty; exec sleep 600', '/dev/null'], {
    uid: user.uid,
    gid: user.gid,
    env: helperEnv(user),
    stdin: 'pipe',
    reject: false,
  })
  const [path] = await startedAsUser(child, (output) => /\/dev\/pts\/\d+/.exec(output))
  return { path, stop: stopper(child) }
}
