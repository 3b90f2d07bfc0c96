import { existsSync, readdirSync } from 'node:fs'
import type { RunOptions } from '@nsbox/core'
import { beforeAll, expect, it } from 'vitest'
import { syscallNumber } from '../support/host-setups.js'
import { describeWithSandboxes, probeAsUser, sandboxAsUser } from '../support/unprivileged.js'

// Escapes from the limits and from the sandbox's own init, each inside a real sandbox
// of the unprivileged test user. The file writes nothing on the host, so that it also
// runs in the cgroup v2 VM, whose root is the host's, read-only. The same file runs on cgroup v1 and cgroup v2: the
// command finds its cgroup in /proc/self/cgroup, never at a path known in advance.

const MiB = 1024 ** 2
const LIMITS: RunOptions = { memory: '64M', pids: 64, cpus: 1 }

const modes: Array<[string, RunOptions]> = [
  ['the default mode', {}],
  ['untrusted', { untrusted: true }],
  ['untrusted with uid root', { untrusted: true, uid: 'root' }],
]

// `cgroup_dir CONTROLLER` prints that controller's cgroup directory as the command sees
// it: its cgroup v1 hierarchy when there is one, else the cgroup v2 path.
// `attempt NAME COMMAND…` runs the command in a subshell and prints whether it worked.
const SHELL_HELPERS = `
cgroup_dir() {
  line=$(grep -E "^[0-9]+:([^:]*,)?$1(,[^:]*)?:" /proc/self/cgroup | head -n 1)
  if [ -n "$line" ]; then
    rest=\${line#*:}
    controllers=\${rest%%:*}
    echo "/sys/fs/cgroup/\${controllers#name=}\${rest#*:}"
  else
    echo "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)"
  fi
}
attempt() {
  name=$1
  shift
  if ( "$@" ) >/dev/null 2>&1; then echo "attack $name=succeeded"; else echo "attack $name=failed"; fi
}
put() { echo "$2" > "$1"; }
`

// Every direct way to lift a limit, then the nested-namespace one, then 300 MiB under
// the 64 MiB cap. $1 is Node.js. `own_cgroups DIR` prints DIR and, when the command sits
// in a child of the sandbox's cgroup, that cgroup too: limits may sit on either.
const LIFT_THE_LIMITS = `${SHELL_HELPERS}
own_cgroups() {
  echo "$1"
  case "$(basename "$(dirname "$1")")" in nsbox-*-*-*) dirname "$1" ;; esac
}
memory=$(cgroup_dir memory)
pids=$(cgroup_dir pids)
cpu=$(cgroup_dir cpu)
echo "cgroups: $memory $pids $cpu"
echo "writable: $(find /sys/fs/cgroup -writable 2>/dev/null | head -n 5 | tr '\\n' ' ')"
# uid root holds capabilities in its user namespace: it would make the mounts writable first.
for point in $(sed -n 's/^\\([^ ]* \\)\\{4\\}\\([^ ]*\\) .* - cgroup2\\{0,1\\} .*/\\2/p' /proc/self/mountinfo); do
  attempt "remount $point read-write" mount -o remount,bind,rw "$point"
done
for dir in $(own_cgroups "$memory"); do
  if [ -e "$dir/memory.max" ]; then
    attempt "$dir/memory.swap.max" put "$dir/memory.swap.max" max
    attempt "$dir/memory.max" put "$dir/memory.max" max
  else
    attempt "$dir/memory.memsw.limit_in_bytes" put "$dir/memory.memsw.limit_in_bytes" -1
    attempt "$dir/memory.limit_in_bytes" put "$dir/memory.limit_in_bytes" -1
  fi
done
for dir in $(own_cgroups "$pids"); do attempt "$dir/pids.max" put "$dir/pids.max" max; done
for dir in $(own_cgroups "$cpu"); do
  if [ -e "$dir/cpu.max" ]; then
    attempt "$dir/cpu.max" put "$dir/cpu.max" max
  else
    attempt "$dir/cpu.cfs_quota_us" put "$dir/cpu.cfs_quota_us" -1
  fi
done
sandbox=$(own_cgroups "$memory" | tail -n 1)
attempt "move out of the sandbox's cgroup" put "$(dirname "$sandbox")/cgroup.procs" $$
attempt "create a child cgroup" mkdir "$memory/nsbox-escape"
rmdir "$memory/nsbox-escape" 2>/dev/null
if grep -q '^[0-9]*:[^:]*memory' /proc/self/cgroup; then
  nested='mkdir -p /tmp/cg && mount -t cgroup -o memory none /tmp/cg && { echo -1 > /tmp/cg/memory.memsw.limit_in_bytes; echo -1 > /tmp/cg/memory.limit_in_bytes; }'
else
  nested='mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && { echo max > /tmp/cg/memory.swap.max; echo max > /tmp/cg/memory.max; }'
fi
# Allowed to work or not: what counts is that the cap still holds afterwards.
if unshare --user --map-root-user --mount --cgroup sh -c "$nested" 2>/dev/null; then
  echo "nested cgroup namespace: raised the limit it sees"
fi
exec "$1" -e 'const chunks = []; for (let i = 0; i < 300; i++) chunks.push(Buffer.alloc(1 << 20, 1)); console.log("allocated 300 MiB")'
`

function attacksThatWorked(stdout: string): string[] {
  return [...stdout.matchAll(/^attack (.+)=succeeded$/gm)].map((match) => match[1] ?? '')
}

function attacksTried(stdout: string): string[] {
  return [...stdout.matchAll(/^attack (.+)=(?:succeeded|failed)$/gm)].map((match) => match[1] ?? '')
}

// The sandbox cgroups left under the test user's cgroup parents whose owner process is
// gone: what a run leaves behind (running sandboxes of other tests have a live owner).
function leftoverCgroups(parents: readonly string[]): string[] {
  return parents.flatMap((parent) => {
    try {
      return readdirSync(parent)
        .filter((entry) => {
          const owner = /^nsbox-(\d+)-\d+-\d+$/.exec(entry)?.[1]
          return owner !== undefined && !existsSync(`/proc/${owner}`)
        })
        .map((entry) => `${parent}/${entry}`)
    } catch {
      return []
    }
  })
}

let cgroupParents: string[] = []
let hasCgroup = false

beforeAll(async () => {
  const support = await probeAsUser()
  cgroupParents = support.cgroups.sandboxParents ?? []
  hasCgroup = support.cgroups.backend !== null
})

await describeWithSandboxes('limits out of the sandbox’s reach', () => {
  it.each(modes)('in %s, the cgroups are read-only and the cap holds', async (_mode, options) => {
    expect(hasCgroup, 'the test user needs a cgroup for these limits').toBe(true)
    const result = await sandboxAsUser('sh', ['-c', LIFT_THE_LIMITS, 'sh', process.execPath], {
      ...options,
      ...LIMITS,
      cwd: '/',
      timeout: '30s',
    })
    const tried = attacksTried(result.stdout)
    for (const limit of [
      /\/memory\.(max|limit_in_bytes)$/,
      /\/pids\.max$/,
      /\/cpu\.(max|cfs_quota_us)$/,
    ])
      expect(tried.some((name) => limit.test(name))).toBe(true)
    expect(tried).toEqual(
      expect.arrayContaining(["move out of the sandbox's cgroup", 'create a child cgroup']),
    )
    expect(attacksThatWorked(result.stdout)).toEqual([])
    expect(result.stdout).toMatch(/^writable: $/m)
    expect(result.stdout).not.toContain('allocated 300 MiB')
    expect(result).toMatchObject({ killedBy: 'memory', signal: 'SIGKILL' })
    expect(result.memoryPeak).toBeGreaterThan(48 * MiB)
    expect(result.memoryPeak).toBeLessThanOrEqual(64 * MiB)
    expect(leftoverCgroups(cgroupParents)).toEqual([])
  })
})

// Steals the init's control socket (fd 3, or any socket the init holds) with
// pidfd_getfd and tells the parent that the command exited 0; then exits 7.
const STEAL_THE_CONTROL_SOCKET = `
my ($pidfd_open, $pidfd_getfd) = @ARGV;
my $pidfd = syscall($pidfd_open, 1, 0);
my $stolen = 0;
for my $target (0 .. 63) {
  last if $pidfd < 0;
  my $fd = syscall($pidfd_getfd, $pidfd, $target, 0);
  next if $fd < 0;
  open(my $handle, '+<&=', $fd) or next;
  if (-S $handle) { syswrite($handle, "exit 0\\n"); $stolen += 1 }
}
print "stolen sockets: $stolen\\n";
exit 7;
`

// PTRACE_ATTACH to PID 1; should it work, waits for the stop and detaches again, so that
// the init goes on.
const ATTACH_TO_PID_1 = `
my ($ptrace) = @ARGV;
my $attached = syscall($ptrace, 16, 1, 0, 0);
my $errno = 0 + $!;
if ($attached == 0) { waitpid(1, 0x40000000); syscall($ptrace, 17, 1, 0, 0) }
print $attached == 0 ? "ptrace attach=succeeded\\n" : "ptrace attach=failed $errno\\n";
`

const initModes: Array<[string, RunOptions]> = [
  ['the default mode', {}],
  ['uid root', { uid: 'root' }],
  ['untrusted with uid root', { untrusted: true, uid: 'root' }],
]

await describeWithSandboxes('the init (PID 1) out of the command’s reach', () => {
  it.each(initModes)('in %s, its control socket cannot be stolen', async (_mode, options) => {
    const result = await sandboxAsUser(
      'perl',
      [
        '-e',
        STEAL_THE_CONTROL_SOCKET,
        String(syscallNumber('pidfd_open')),
        String(syscallNumber('pidfd_getfd')),
      ],
      { ...options, cwd: '/', timeout: '20s' },
    )
    expect(result.stdout).toMatch(/^stolen sockets: \d+$/m) // the probe ran
    expect(result).toMatchObject({ exitCode: 7, signal: null, killedBy: null })
  })

  it.each(initModes)('in %s, it can be neither traced nor read', async (_mode, options) => {
    const result = await sandboxAsUser(
      'sh',
      [
        '-c',
        'perl -e "$1" "$2"; if cat /proc/1/environ >/dev/null 2>&1; then echo "read environ=succeeded"; else echo "read environ=failed"; fi',
        'sh',
        ATTACH_TO_PID_1,
        String(syscallNumber('ptrace')),
      ],
      { ...options, cwd: '/', timeout: '20s' },
    )
    expect(result.stdout).toMatch(/^ptrace attach=failed \d+$/m)
    expect(result.stdout).toContain('read environ=failed\n')
    expect(result.exitCode).toBe(0)
  })
})
