import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { RunOptions } from '@nsbox/core'
import { dir } from 'tmp-promise'
import { expect, it } from 'vitest'
import { fileCleanups } from '../support/cleanups.js'
import { handToUser } from '../support/fixture-project.js'
import {
  runWithOpenFilesAsUser,
  runWithSessionKeyAsUser,
  syscallNumber,
} from '../support/host-setups.js'
import { uniqueMarker } from '../support/processes.js'
import { testUser } from '../support/test-user.js'
import { describeWithSandboxes, runAsUser, sandboxAsUser } from '../support/unprivileged.js'

// What uid root can undo under untrusted; what reaches the command from the process that
// starts it (keys, open files) and from earlier sandboxes (symbolic links they planted),
// in every mode; hide paths that nest; and what sits next to a working directory in /tmp.

const marker = uniqueMarker('escape')
const { cleanups, userDir } = fileCleanups()

let homeDirs = 0

/** A fresh directory in the test user's home, removed after the file's tests. */
async function homeDir(name: string, files: Record<string, string> = {}): Promise<string> {
  homeDirs += 1
  const made = path.join(testUser().home, `${name}-${marker}-${homeDirs}`)
  mkdirSync(made)
  cleanups.push(() => rmSync(made, { recursive: true, force: true }))
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(made, file), content)
  await handToUser(made, testUser())
  return made
}

const everyMode: Array<[string, RunOptions]> = [
  ['the default mode', {}],
  ['uid root', { uid: 'root' }],
  ['untrusted', { untrusted: true }],
]

await describeWithSandboxes('uid root under untrusted, against the sandbox’s mounts', () => {
  it('cannot unmount the hidden home, make / writable or write to the real home', async () => {
    const { home } = testUser()
    const secret = path.join(home, `.nsbox-secret-${marker}`)
    const planted = path.join(home, `.nsbox-planted-${marker}`)
    writeFileSync(secret, `the secret ${marker}\n`, { mode: 0o600 })
    await handToUser(secret, testUser())
    cleanups.push(() => rmSync(secret, { force: true }))
    cleanups.push(() => rmSync(planted, { force: true }))
    const result = await sandboxAsUser(
      'sh',
      [
        '-c',
        `umount -l ${home} 2>/dev/null; echo umount=$?
cat ${secret} 2>/dev/null
mount -o remount,rw / 2>/dev/null; echo remount=$?
mount -o remount,bind,rw / 2>/dev/null; echo bind-remount=$?
mount -o remount,bind,rw ${home} 2>/dev/null
echo planted > ${planted} 2>/dev/null; echo write=$?`,
      ],
      { untrusted: true, uid: 'root', cwd: '/' },
    )
    expect(result.stdout).toMatch(/^umount=\d+$/m) // the probe ran
    expect(result.stdout).not.toContain(`the secret ${marker}`)
    expect(result.stdout).toMatch(/^remount=[1-9]\d*$/m)
    expect(result.stdout).toMatch(/^bind-remount=[1-9]\d*$/m)
    expect(result.stdout).toMatch(/^write=[1-9]\d*$/m)
    expect(existsSync(planted)).toBe(false)
  })
})

// Reads the caller's key by id and by search, then adds a key of its own; prints each
// outcome. The Perl in sandbox-child.mjs lists the caller's keyring afterwards.
const USE_THE_KEYRING = `
my ($keyctl, $add_key, $id, $description, $inside) = @ARGV;
sub outcome { my ($returned) = @_; $returned >= 0 ? 'worked' : 'errno ' . (0 + $!) }
my $buffer = "\\0" x 256;
my $read = syscall($keyctl, 11, 0 + $id, $buffer, length $buffer);       # KEYCTL_READ
print "read by id=", outcome($read), "\\n";
print "payload: ", substr($buffer, 0, $read), "\\n" if $read > 0;
my $type = 'user';
my $found = syscall($keyctl, 10, -3, $type, $description, 0);           # KEYCTL_SEARCH
print "search=", outcome($found), "\\n";
if ($found >= 0 && (my $size = syscall($keyctl, 11, $found, $buffer, length $buffer)) > 0) {
  print "payload: ", substr($buffer, 0, $size), "\\n";
}
open(my $keys, '<', '/proc/keys') and print map { "proc keys: $_" } <$keys>;
my $payload = 'planted from inside';
print "add=", outcome(syscall($add_key, $type, $inside, $payload, length $payload, -3)), "\\n";
`

await describeWithSandboxes('a fresh session keyring', () => {
  it.each(everyMode)('in %s, the caller’s keys stay out of reach', async (mode, options) => {
    const key = { description: `nsbox-key-${marker}`, payload: `key-payload-${marker}` }
    const inside = `nsbox-inside-${marker}-${mode.replace(/\W+/g, '-')}`
    const { report, sessionKeys } = await runWithSessionKeyAsUser(
      'perl',
      [
        '-e',
        USE_THE_KEYRING,
        String(syscallNumber('keyctl')),
        String(syscallNumber('add_key')),
        '{key id}',
        key.description,
        inside,
      ],
      { ...options, cwd: '/' },
      key,
    )
    expect(sessionKeys.some((line) => line.endsWith(`;${key.description}`))).toBe(true) // the probe works
    expect(report).not.toHaveProperty('error')
    const { stdout } = report as { stdout: string }
    expect(stdout).not.toContain(key.payload)
    expect(stdout).toMatch(/^read by id=errno \d+$/m)
    expect(stdout).toMatch(/^search=errno \d+$/m)
    expect(stdout).toMatch(options.untrusted ? /^add=errno 1$/m : /^add=worked$/m)
    if (options.untrusted) {
      expect(stdout).toMatch(/^read by id=errno 1$/m) // seccomp: EPERM
      expect(stdout).toMatch(/^search=errno 1$/m)
    }
    expect(sessionKeys.filter((line) => line.endsWith(`;${inside}`))).toEqual([])
  })
})

await describeWithSandboxes('open file descriptors of the caller', () => {
  it.each(everyMode)(
    'in %s, only stdin, stdout and stderr reach the command',
    async (_mode, options) => {
      // fd 20: a file of the test user behind a directory it may not enter, so that only the
      // open descriptor leads to it; fd 30: a file only root may read. (Not fds 3-15: Node.js
      // marks those close-on-exec as it starts, so a Node.js caller never passes them on.)
      const closed = await dir({ prefix: 'nsbox-fds-', tmpdir: '/var/tmp', unsafeCleanup: true })
      cleanups.push(closed.cleanup)
      chmodSync(closed.path, 0o700)
      const userSecret = path.join(closed.path, 'user-secret')
      const rootSecret = path.join(closed.path, 'root-secret')
      writeFileSync(userSecret, `fd 20 secret ${marker}\n`, { mode: 0o600 })
      await handToUser(userSecret, testUser())
      writeFileSync(rootSecret, `fd 30 secret ${marker}\n`, { mode: 0o600 })
      const report = await runWithOpenFilesAsUser(
        'sh',
        [
          '-c',
          `echo fds:
ls /proc/$$/fd
echo end
cat /proc/self/fd/20 2>/dev/null || echo "fd 20=unreadable"
perl -e 'if (open(my $fd, "<&=", 30)) { print <$fd> } else { print "fd 30=closed\\n" }'`,
        ],
        { ...options, cwd: '/' },
        { 20: userSecret, 30: rootSecret },
      )
      expect(report).not.toHaveProperty('error')
      const { stdout } = report as { stdout: string }
      expect(stdout).not.toContain('secret')
      expect(stdout).toContain('fd 20=unreadable\n')
      expect(stdout).toContain('fd 30=closed\n')
      // What the shell (the command itself) holds.
      const fds = /^fds:\n([\s\S]*?)^end$/m.exec(stdout)?.[1]?.trim().split('\n')
      expect(fds).toEqual(['0', '1', '2'])
    },
  )
})

/** Runs `command` in a sandbox with `project` writable: the earlier, untrusted run. */
async function plantFrom(project: string, command: string): Promise<void> {
  const result = await sandboxAsUser('sh', ['-c', command], { rw: [project], cwd: project })
  expect(result.exitCode).toBe(0)
}

await describeWithSandboxes('symbolic links planted by an earlier sandbox', () => {
  it('an ro path through a planted link is refused, and the secret stays hidden', async () => {
    const ssh = await homeDir('.nsbox-ssh', { id_rsa: `private key ${marker}\n` })
    const project = await userDir('/var/tmp', 'nsbox-project-')
    await plantFrom(project, `ln -s ${ssh} ${project}/sub`)
    const sub = path.join(project, 'sub')
    const report = await runAsUser('sh', ['-c', `cat ${sub}/id_rsa ${ssh}/id_rsa`], {
      untrusted: true,
      ro: [sub],
      cwd: project,
    })
    if (!('error' in report)) expect(report.stdout).not.toContain('private key')
    expect(report).toMatchObject({
      error: { code: 'ERR_INVALID_OPTION', option: 'ro', message: expect.stringContaining(sub) },
    })
  })

  it('an rw path through a planted link is refused, and nothing is written there', async () => {
    const config = await homeDir('.nsbox-config')
    const project = await userDir('/var/tmp', 'nsbox-project-')
    await plantFrom(project, `ln -s ${config} ${project}/cfg`)
    const cfg = path.join(project, 'cfg')
    const report = await runAsUser('sh', ['-c', `echo planted > ${cfg}/planted`], {
      untrusted: true,
      rw: [cfg],
      cwd: project,
    })
    expect(existsSync(path.join(config, 'planted'))).toBe(false)
    expect(report).toMatchObject({
      error: { code: 'ERR_INVALID_OPTION', option: 'rw', message: expect.stringContaining(cfg) },
    })
  })

  it('a hide path replaced by a planted link hides what the link points to', async () => {
    const elsewhere = await userDir('/var/tmp', 'nsbox-elsewhere-')
    writeFileSync(path.join(elsewhere, 'settings'), `not for the command ${marker}\n`)
    const project = await userDir('/var/tmp', 'nsbox-project-')
    writeFileSync(path.join(project, '.env'), 'API_TOKEN=secret\n')
    await handToUser(project, testUser())
    await plantFrom(project, `rm ${project}/.env && ln -s ${elsewhere}/settings ${project}/.env`)
    const env = path.join(project, '.env')
    const result = await sandboxAsUser('sh', ['-c', `cat .env ${elsewhere}/settings; echo done`], {
      untrusted: true,
      rw: [elsewhere],
      hide: [env],
      cwd: project,
    })
    expect(result.stdout).toBe('done\n')
  })
})

await describeWithSandboxes('hide paths inside hidden directories', () => {
  it('under untrusted, a hidden directory inside the (hidden) home starts and stays hidden', async () => {
    const ssh = await homeDir('.nsbox-ssh', { id_rsa: `private key ${marker}\n` })
    const result = await sandboxAsUser('sh', ['-c', `cat ${ssh}/id_rsa; echo done`], {
      untrusted: true,
      hide: [ssh],
      cwd: '/',
    })
    expect(result.stdout).toBe('done\n')
  })

  it('the home and a directory inside it, both hidden, start and stay hidden', async () => {
    const { home } = testUser()
    const ssh = await homeDir('.nsbox-ssh', { id_rsa: `private key ${marker}\n` })
    const result = await sandboxAsUser(
      'sh',
      ['-c', `cat ${ssh}/id_rsa; ls -A ${home}; echo done`],
      {
        hide: [home, ssh],
        cwd: '/',
      },
    )
    expect(result.stdout).toBe('done\n')
  })
})

await describeWithSandboxes('/tmp under untrusted', () => {
  it('shows the working directory, not what sits next to it', async () => {
    const top = await userDir('/tmp', 'nsbox-escape-')
    mkdirSync(path.join(top, 'work'))
    mkdirSync(path.join(top, 'other'))
    writeFileSync(path.join(top, 'work', 'visible'), 'visible\n')
    writeFileSync(path.join(top, 'other', 'secret'), `the secret ${marker}\n`)
    await handToUser(top, testUser())
    const result = await sandboxAsUser('sh', ['-c', `cat visible; cat ${top}/other/secret`], {
      untrusted: true,
      cwd: path.join(top, 'work'),
    })
    expect(result.stdout).toBe('visible\n')
    expect(result.stderr).toContain(`${top}/other/secret: No such file or directory`)
  })
})
