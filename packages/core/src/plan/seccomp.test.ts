import { describe, expect, it } from 'vitest'
import {
  planSeccompFilter,
  SECCOMP_DENIED,
  type SeccompSyscall,
  seccompSyscallNumber,
} from './seccomp.js'

const ARCHES = ['x64', 'arm64', 'riscv64', 'loong64'] as const

const AUDIT_ARCH = {
  x64: 0xc000003e,
  arm64: 0xc00000b7,
  riscv64: 0xc00000f3,
  loong64: 0xc0000102,
} as const
const AUDIT_ARCH_I386 = 0x40000003
const AUDIT_ARCH_ARM = 0x40000028

const KILL_PROCESS = 0x80000000
const ALLOW = 0x7fff0000
const EPERM = 0x00050001
const ENOSYS = 0x00050026

const CLONE_NEWNS = 0x00020000n
const CLONE_NEWPID = 0x20000000n
const CLONE_NEWUSER = 0x10000000n
const PTHREAD_CREATE_FLAGS = 0x003d0f00n
const FORK_FLAGS = 0x01200011n
const TCGETS = 0x5401n
const TIOCSTI = 0x5412n
const TIOCLINUX = 0x541cn
const HIGH_WORD_NOISE = 0xdeadbeef00000000n

// Read off arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h,
// independently of the module's table; "-" where that table never had the syscall.
const KERNEL_TABLES = `
  userfaultfd        323 282
  perf_event_open    298 241
  bpf                321 280
  keyctl             250 219
  add_key            248 217
  request_key        249 218
  kexec_load         246 104
  kexec_file_load    320 294
  init_module        175 105
  finit_module       313 273
  delete_module      176 106
  reboot             169 142
  mount              165  40
  umount2            166  39
  pivot_root         155  41
  setns              308 268
  ptrace             101 117
  process_vm_readv   310 270
  process_vm_writev  311 271
  pidfd_getfd        438 438
  open_by_handle_at  304 265
  swapon             167 224
  swapoff            168 225
  syslog             103 116
  acct               163  89
  quotactl           179  60
  quotactl_fd        443 443
  lookup_dcookie     212  18
  iopl               172   -
  ioperm             173   -
  uselib             134   -
  _sysctl            156   -
  io_uring_setup     425 425
  io_uring_enter     426 426
  io_uring_register  427 427
  clone3             435 435
  open_tree          428 428
  move_mount         429 429
  fsopen             430 430
  fsconfig           431 431
  fsmount            432 432
  fspick             433 433
  mount_setattr      442 442
  open_tree_attr     467 467
  unshare            272  97
  clone               56 220
  ioctl               16  29
`
const kernelTable = new Map(
  KERNEL_TABLES.trim()
    .split('\n')
    .map((line) => {
      const [name = '', x64 = '', generic = ''] = line.trim().split(/\s+/)
      const parse = (value: string) => (value === '-' ? null : Number(value))
      return [name, { x64: parse(x64), generic: parse(generic) }]
    }),
)
const kernelNumber = (arch: (typeof ARCHES)[number], name: string) => {
  const row = kernelTable.get(name)
  if (!row) throw new Error(`no kernel table row for ${name}`)
  return arch === 'x64' ? row.x64 : row.generic
}

const ALLOWED_SAMPLES = {
  x64: { read: 0, write: 1, openat: 257, execve: 59, futex: 202, mmap: 9, getpid: 39 },
  generic: { read: 63, write: 64, openat: 56, execve: 221, futex: 98, mmap: 222, getpid: 172 },
}

interface SeccompData {
  nr: number
  arch: number
  args?: readonly bigint[]
}

const BPF_OPCODES = new Set([0x20, 0x15, 0x35, 0x45, 0x05, 0x54, 0x06])
const isJump = (code: number) => (code & 0x07) === 0x05

function instructionsOf(filter: Buffer) {
  return Array.from({ length: filter.length / 8 }, (_, index) => ({
    code: filter.readUInt16LE(index * 8),
    jt: filter.readUInt8(index * 8 + 2),
    jf: filter.readUInt8(index * 8 + 3),
    k: filter.readUInt32LE(index * 8 + 4),
  }))
}

// A classic-BPF interpreter for the opcodes a seccomp filter may use, run as the kernel would.
function verdictOf(filter: Buffer, { nr, arch, args = [] }: SeccompData): number {
  const data = Buffer.alloc(64)
  data.writeUInt32LE(nr >>> 0, 0)
  data.writeUInt32LE(arch, 4)
  for (const [index, arg] of args.entries()) {
    data.writeBigUInt64LE(BigInt.asUintN(64, arg), 16 + 8 * index)
  }
  const program = instructionsOf(filter)
  let accumulator = 0
  for (let pc = 0; pc < program.length; pc++) {
    const instruction = program[pc]
    if (!instruction) break
    const { code, jt, jf, k } = instruction
    switch (code) {
      case 0x20:
        accumulator = data.readUInt32LE(k)
        break
      case 0x15:
        pc += accumulator === k ? jt : jf
        break
      case 0x35:
        pc += accumulator >= k ? jt : jf
        break
      case 0x45:
        pc += (accumulator & k) !== 0 ? jt : jf
        break
      case 0x05:
        pc += k
        break
      case 0x54:
        accumulator = (accumulator & k) >>> 0
        break
      case 0x06:
        return k
      default:
        throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc}`)
    }
  }
  throw new Error('the filter ran past its end without a verdict')
}

describe.each(ARCHES)('planSeccompFilter on %s', (arch) => {
  const filter = planSeccompFilter(arch)
  const table = arch === 'x64' ? 'x64' : 'generic'
  const call = (nr: number, ...args: bigint[]) =>
    verdictOf(filter, { nr, arch: AUDIT_ARCH[arch], args })
  const numberOf = (name: SeccompSyscall) => {
    const nr = seccompSyscallNumber(arch, name)
    if (nr === null) throw new Error(`${name} has no number on ${arch}`)
    return nr
  }

  it('passes the checks the kernel makes before installing a filter', () => {
    const program = instructionsOf(filter)
    expect(filter.length % 8).toBe(0)
    expect(program.length).toBeGreaterThan(0)
    expect(program.length).toBeLessThan(4096)
    expect(program.at(-1)?.code).toBe(0x06)
    program.forEach(({ code, jt, jf, k }, pc) => {
      expect(BPF_OPCODES.has(code), `opcode at ${pc}`).toBe(true)
      if (code === 0x20) expect(k % 4 === 0 && k < 64, `load at ${pc}`).toBe(true)
      if (isJump(code)) {
        const targets = code === 0x05 ? [k] : [jt, jf]
        for (const offset of targets) expect(pc + 1 + offset).toBeLessThan(program.length)
      }
    })
  })

  it('kills a process that enters through another ABI', () => {
    const foreign = [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, ...Object.values(AUDIT_ARCH)].filter(
      (value) => value !== AUDIT_ARCH[arch],
    )
    for (const value of foreign) {
      expect(verdictOf(filter, { nr: ALLOWED_SAMPLES[table].read, arch: value })).toBe(KILL_PROCESS)
    }
  })

  it('denies every listed syscall with its errno', () => {
    for (const rule of SECCOMP_DENIED) {
      const matching =
        rule.onlyIf === undefined
          ? []
          : 'hasAnyBit' in rule.onlyIf
            ? [BigInt(rule.onlyIf.hasAnyBit)]
            : [0n, BigInt(rule.onlyIf.isOneOf[0] ?? 0)]
      for (const name of rule.syscalls) {
        if (seccompSyscallNumber(arch, name) === null) continue
        expect(call(numberOf(name), ...matching), name).toBe(
          rule.errno === 'EPERM' ? EPERM : ENOSYS,
        )
      }
    }
  })

  it('allows ordinary syscalls', () => {
    for (const [name, nr] of Object.entries(ALLOWED_SAMPLES[table])) {
      expect(call(nr, 0n, 0n), name).toBe(ALLOW)
    }
  })

  it('allows clone and unshare without CLONE_NEWUSER', () => {
    expect(call(numberOf('clone'), PTHREAD_CREATE_FLAGS)).toBe(ALLOW)
    expect(call(numberOf('clone'), FORK_FLAGS)).toBe(ALLOW)
    expect(call(numberOf('unshare'), CLONE_NEWNS)).toBe(ALLOW)
    // The kernel reads clone flags as 32 bits, so this is no request for a user namespace.
    expect(call(numberOf('clone'), CLONE_NEWUSER << 32n)).toBe(ALLOW)
  })

  it('denies a new user namespace through unshare or clone, whatever else is set', () => {
    for (const name of ['unshare', 'clone'] as const) {
      expect(call(numberOf(name), CLONE_NEWUSER), name).toBe(EPERM)
      expect(call(numberOf(name), CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID), name).toBe(EPERM)
      expect(call(numberOf(name), HIGH_WORD_NOISE | CLONE_NEWUSER | FORK_FLAGS), name).toBe(EPERM)
    }
  })

  it('denies terminal input injection through ioctl, judging only the request', () => {
    const ioctl = numberOf('ioctl')
    expect(call(ioctl, 0n, TCGETS)).toBe(ALLOW)
    expect(call(ioctl, TIOCSTI, TCGETS)).toBe(ALLOW)
    expect(call(ioctl, 0n, TIOCSTI)).toBe(EPERM)
    expect(call(ioctl, 0n, TIOCLINUX)).toBe(EPERM)
    expect(call(ioctl, 0n, HIGH_WORD_NOISE | TIOCSTI)).toBe(EPERM)
    expect(call(ioctl, 0n, HIGH_WORD_NOISE | TIOCLINUX)).toBe(EPERM)
  })

  it('uses the kernel syscall numbers of this architecture', () => {
    for (const name of kernelTable.keys()) {
      expect(seccompSyscallNumber(arch, name as SeccompSyscall), name).toBe(
        kernelNumber(arch, name),
      )
    }
  })
})

describe('planSeccompFilter on x64', () => {
  const filter = planSeccompFilter('x64')

  it('answers the x32 ABI with ENOSYS, since its numbers differ', () => {
    for (const nr of [0, 165, 272, 0x3fffffff, 0xffffffff]) {
      expect(verdictOf(filter, { nr: 0x40000000 | nr, arch: AUDIT_ARCH.x64 })).toBe(ENOSYS)
    }
  })
})

describe('planSeccompFilter', () => {
  it('refuses an architecture it has no table for', () => {
    for (const arch of ['ia32', 'ppc64', 's390x']) {
      expect(() => planSeccompFilter(arch)).toThrowError(
        expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM' }),
      )
    }
  })
})

describe('SECCOMP_DENIED', () => {
  const named = SECCOMP_DENIED.flatMap((rule) => rule.syscalls)

  it('names each syscall once, so no rule can shadow another', () => {
    expect(new Set(named).size).toBe(named.length)
  })

  it('has a number, or a deliberate absence, for every syscall on every architecture', () => {
    expect(new Set(kernelTable.keys())).toEqual(new Set(named))
    const absent = ARCHES.flatMap((arch) =>
      named
        .filter((name) => seccompSyscallNumber(arch, name) === null)
        .map((name) => `${arch}:${name}`),
    )
    expect(absent).toEqual(
      ['arm64', 'riscv64', 'loong64'].flatMap((arch) =>
        ['iopl', 'ioperm', 'uselib', '_sysctl'].map((name) => `${arch}:${name}`),
      ),
    )
  })

  it('describes in words every condition it checks', () => {
    for (const rule of SECCOMP_DENIED) {
      expect(rule.when === undefined, rule.syscalls.join()).toBe(rule.onlyIf === undefined)
    }
  })
})
