import { UnsupportedPlatformError } from '../errors.js'
import { type SeccompSyscall, SYSCALL_NUMBERS, type SyscallTable } from './seccomp-numbers.js'

/** A syscall that {@link SECCOMP_DENIED} names. */
export type { SeccompSyscall }

/** Which calls of a syscall a rule covers, judged on the low 32 bits of one argument. */
export type SeccompArgumentTest =
  | { argument: 0 | 1; hasAnyBit: number }
  | { argument: 0 | 1; isOneOf: readonly number[] }

/** One entry of the seccomp policy: syscalls that fail with `errno` instead of running. */
export interface SeccompRule {
  syscalls: readonly SeccompSyscall[]
  errno: 'EPERM' | 'ENOSYS'
  why: string
  /** When only some calls are denied, which ones, in words. */
  when?: string
  /** The same condition as `when`, as the filter checks it. */
  onlyIf?: SeccompArgumentTest
}

const CLONE_NEWUSER = 0x10000000
const TIOCSTI = 0x5412
const TIOCLINUX = 0x541c

/**
 * The syscalls the sandbox's seccomp filter denies; everything else is allowed.
 *
 * ENOSYS is for recent families whose callers fall back to an older syscall when the kernel
 * looks too old; EPERM is for everything else. A syscall appears in at most one rule.
 *
 * @example
 * ```ts
 * for (const rule of SECCOMP_DENIED) {
 *   console.log(`${rule.syscalls.join(', ')}: ${rule.errno}${rule.when ? ` when ${rule.when}` : ''}`)
 * }
 * ```
 */
export const SECCOMP_DENIED: readonly SeccompRule[] = [
  {
    syscalls: ['userfaultfd', 'perf_event_open', 'bpf'],
    errno: 'EPERM',
    why: 'Large kernel attack surfaces behind many privilege escalations, and nothing a test needs.',
  },
  {
    syscalls: ['keyctl', 'add_key', 'request_key'],
    errno: 'EPERM',
    why: 'The kernel keyrings are not namespaced, so the sandbox could read or plant keys of the user.',
  },
  {
    syscalls: [
      'kexec_load',
      'kexec_file_load',
      'init_module',
      'finit_module',
      'delete_module',
      'reboot',
    ],
    errno: 'EPERM',
    why: 'They replace, extend or stop the running kernel.',
  },
  {
    syscalls: ['mount', 'umount2', 'pivot_root'],
    errno: 'EPERM',
    why: 'The init has built the mount tree; unmounting a mount it made would uncover what it hides.',
  },
  {
    syscalls: ['setns'],
    errno: 'EPERM',
    why: 'Joining another namespace leaves the sandbox.',
  },
  {
    syscalls: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd'],
    errno: 'EPERM',
    why: 'They reach into the memory or file descriptors of another process.',
  },
  {
    syscalls: ['open_by_handle_at'],
    errno: 'EPERM',
    why: 'A file handle opens a file by inode, around the mount tree.',
  },
  {
    syscalls: ['swapon', 'swapoff', 'syslog', 'acct', 'quotactl', 'quotactl_fd', 'lookup_dcookie'],
    errno: 'EPERM',
    why: 'Host administration, or a window onto it.',
  },
  {
    syscalls: ['iopl', 'ioperm', 'uselib', '_sysctl'],
    errno: 'EPERM',
    why: 'Legacy x86_64 interfaces: raw port I/O, the a.out loader and the removed sysctl call.',
  },
  {
    syscalls: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'],
    errno: 'ENOSYS',
    why: 'io_uring performs I/O out of sight of this filter; callers fall back to plain syscalls.',
  },
  {
    syscalls: ['clone3'],
    errno: 'ENOSYS',
    why: 'Its flags sit in memory that seccomp cannot read; glibc falls back to clone, which is checked.',
  },
  {
    syscalls: [
      'open_tree',
      'move_mount',
      'fsopen',
      'fsconfig',
      'fsmount',
      'fspick',
      'mount_setattr',
      'open_tree_attr',
    ],
    errno: 'ENOSYS',
    why: 'The new mount API; libmount falls back to mount, which is denied.',
  },
  {
    syscalls: ['unshare', 'clone'],
    errno: 'EPERM',
    why: 'A nested user namespace grants a full set of capabilities, the first step of many kernel exploits.',
    when: 'the flags include CLONE_NEWUSER',
    onlyIf: { argument: 0, hasAnyBit: CLONE_NEWUSER },
  },
  {
    syscalls: ['ioctl'],
    errno: 'EPERM',
    why: 'Both push input into the terminal, which could type commands into the shell that started the sandbox.',
    when: 'the request is TIOCSTI or TIOCLINUX',
    onlyIf: { argument: 1, isOneOf: [TIOCSTI, TIOCLINUX] },
  },
]

interface FilterTarget {
  auditArch: number
  table: SyscallTable
  hasX32Abi: boolean
}

const TARGET_BY_ARCH: Record<string, FilterTarget> = {
  x64: { auditArch: 0xc000003e, table: 'x64', hasX32Abi: true },
  arm64: { auditArch: 0xc00000b7, table: 'generic', hasX32Abi: false },
  riscv64: { auditArch: 0xc00000f3, table: 'generic', hasX32Abi: false },
  loong64: { auditArch: 0xc0000102, table: 'generic', hasX32Abi: false },
}

function targetFor(arch: string): FilterTarget {
  const target = TARGET_BY_ARCH[arch]
  if (!target) {
    throw new UnsupportedPlatformError(
      `nsbox has no seccomp filter for the ${arch} architecture yet (supported: ${Object.keys(TARGET_BY_ARCH).join(', ')}). Please open an issue with the output of \`uname -m\`.`,
    )
  }
  return target
}

/**
 * The number of a syscall on a Node.js `process.arch`, or `null` where that architecture never
 * had it; throws {@link UnsupportedPlatformError} on unknown architectures.
 *
 * @example
 * ```ts
 * seccompSyscallNumber('arm64', 'mount') // 40
 * seccompSyscallNumber('arm64', 'iopl') // null
 * ```
 */
export function seccompSyscallNumber(arch: string, syscall: SeccompSyscall): number | null {
  return SYSCALL_NUMBERS[syscall][targetFor(arch).table]
}

interface Instruction {
  code: number
  jt: number
  jf: number
  k: number
}

const LD_W_ABS = 0x20
const JMP_JEQ_K = 0x15
const JMP_JGE_K = 0x35
const JMP_JSET_K = 0x45
const RET_K = 0x06

const SECCOMP_RET_KILL_PROCESS = 0x80000000
const SECCOMP_RET_ERRNO = 0x00050000
const SECCOMP_RET_ALLOW = 0x7fff0000
const ERRNO_VALUE = { EPERM: 1, ENOSYS: 38 } as const

// Offsets into struct seccomp_data; a 64-bit argument's low word comes first on little-endian.
const NR_OFFSET = 0
const ARCH_OFFSET = 4
const FIRST_ARGUMENT_OFFSET = 16

// x32 shares AUDIT_ARCH_X86_64 but numbers its syscalls from this bit, which the x86_64
// numbers of the deny list would never match.
const X32_SYSCALL_BIT = 0x40000000
const BPF_MAXINSNS = 4096

const load = (offset: number): Instruction => ({ code: LD_W_ABS, jt: 0, jf: 0, k: offset })
const verdict = (k: number): Instruction => ({ code: RET_K, jt: 0, jf: 0, k })
const jump = (code: number, k: number, jt: number, jf: number): Instruction => ({ code, jt, jf, k })
const denial = (errno: SeccompRule['errno']): number => SECCOMP_RET_ERRNO | ERRNO_VALUE[errno]

// Leaves the accumulator holding an argument, so every path through it ends in a verdict.
function argumentCheck(nr: number, test: SeccompArgumentTest, denied: number): Instruction[] {
  const code = 'hasAnyBit' in test ? JMP_JSET_K : JMP_JEQ_K
  const values = 'hasAnyBit' in test ? [test.hasAnyBit] : test.isOneOf
  const last = values.length - 1
  // A match jumps to the denial; only the last miss goes on, to the allow after it.
  const checks = values.map((value, index) =>
    jump(code, value, last - index, index === last ? 1 : 0),
  )
  return [
    jump(JMP_JEQ_K, nr, 0, checks.length + 3),
    load(FIRST_ARGUMENT_OFFSET + 8 * test.argument),
    ...checks,
    verdict(denied),
    verdict(SECCOMP_RET_ALLOW),
  ]
}

function encode(program: readonly Instruction[]): Buffer {
  if (program.length > BPF_MAXINSNS) {
    throw new Error(`seccomp filter has ${program.length} instructions, over ${BPF_MAXINSNS}`)
  }
  const bytes = Buffer.alloc(program.length * 8)
  program.forEach(({ code, jt, jf, k }, index) => {
    if (jt > 255 || jf > 255) throw new Error(`seccomp filter jump too long at ${index}`)
    bytes.writeUInt16LE(code, index * 8)
    bytes.writeUInt8(jt, index * 8 + 2)
    bytes.writeUInt8(jf, index * 8 + 3)
    bytes.writeUInt32LE(k, index * 8 + 4)
  })
  return bytes
}

/**
 * The seccomp filter for a Node.js `process.arch`, as the bytes of a `struct sock_filter` array.
 *
 * Each instruction is 8 little-endian bytes, so `sock_fprog.len` is `length / 8`. The filter
 * kills a process that enters through another ABI, answers {@link SECCOMP_DENIED} with its
 * errno, and allows everything else. Throws {@link UnsupportedPlatformError} on unknown
 * architectures.
 *
 * @example
 * ```ts
 * const filter = planSeccompFilter(process.arch)
 * const instructionCount = filter.length / 8
 * ```
 */
export function planSeccompFilter(arch: string): Buffer {
  const { auditArch, table, hasX32Abi } = targetFor(arch)
  const program = [
    load(ARCH_OFFSET),
    jump(JMP_JEQ_K, auditArch, 1, 0),
    verdict(SECCOMP_RET_KILL_PROCESS),
    load(NR_OFFSET),
  ]
  if (hasX32Abi) {
    program.push(jump(JMP_JGE_K, X32_SYSCALL_BIT, 0, 1), verdict(denial('ENOSYS')))
  }
  for (const rule of SECCOMP_DENIED) {
    for (const name of rule.syscalls) {
      const nr: number | null = SYSCALL_NUMBERS[name][table]
      if (nr === null) continue
      if (rule.onlyIf) {
        program.push(...argumentCheck(nr, rule.onlyIf, denial(rule.errno)))
      } else {
        program.push(jump(JMP_JEQ_K, nr, 0, 1), verdict(denial(rule.errno)))
      }
    }
  }
  program.push(verdict(SECCOMP_RET_ALLOW))
  return encode(program)
}
