/** The system call tables nsbox's seccomp filter knows: x86_64's own, and the generic one. */
export type SyscallTable = 'x64' | 'generic'

// Numbers from arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h
// (the table of arm64, riscv64 and loong64); null where that table never had the syscall.
/** Numbers of the syscalls the seccomp policy names, per table. */
export const SYSCALL_NUMBERS = {
  userfaultfd: { x64: 323, generic: 282 },
  perf_event_open: { x64: 298, generic: 241 },
  bpf: { x64: 321, generic: 280 },
  keyctl: { x64: 250, generic: 219 },
  add_key: { x64: 248, generic: 217 },
  request_key: { x64: 249, generic: 218 },
  kexec_load: { x64: 246, generic: 104 },
  kexec_file_load: { x64: 320, generic: 294 },
  init_module: { x64: 175, generic: 105 },
  finit_module: { x64: 313, generic: 273 },
  delete_module: { x64: 176, generic: 106 },
  reboot: { x64: 169, generic: 142 },
  mount: { x64: 165, generic: 40 },
  umount2: { x64: 166, generic: 39 },
  pivot_root: { x64: 155, generic: 41 },
  setns: { x64: 308, generic: 268 },
  ptrace: { x64: 101, generic: 117 },
  process_vm_readv: { x64: 310, generic: 270 },
  process_vm_writev: { x64: 311, generic: 271 },
  pidfd_getfd: { x64: 438, generic: 438 },
  open_by_handle_at: { x64: 304, generic: 265 },
  swapon: { x64: 167, generic: 224 },
  swapoff: { x64: 168, generic: 225 },
  syslog: { x64: 103, generic: 116 },
  acct: { x64: 163, generic: 89 },
  quotactl: { x64: 179, generic: 60 },
  quotactl_fd: { x64: 443, generic: 443 },
  lookup_dcookie: { x64: 212, generic: 18 },
  iopl: { x64: 172, generic: null },
  ioperm: { x64: 173, generic: null },
  uselib: { x64: 134, generic: null },
  _sysctl: { x64: 156, generic: null },
  io_uring_setup: { x64: 425, generic: 425 },
  io_uring_enter: { x64: 426, generic: 426 },
  io_uring_register: { x64: 427, generic: 427 },
  clone3: { x64: 435, generic: 435 },
  open_tree: { x64: 428, generic: 428 },
  move_mount: { x64: 429, generic: 429 },
  fsopen: { x64: 430, generic: 430 },
  fsconfig: { x64: 431, generic: 431 },
  fsmount: { x64: 432, generic: 432 },
  fspick: { x64: 433, generic: 433 },
  mount_setattr: { x64: 442, generic: 442 },
  open_tree_attr: { x64: 467, generic: 467 },
  unshare: { x64: 272, generic: 97 },
  clone: { x64: 56, generic: 220 },
  ioctl: { x64: 16, generic: 29 },
} as const satisfies Record<string, Record<SyscallTable, number | null>>

/** A syscall the seccomp policy names. */
export type SeccompSyscall = keyof typeof SYSCALL_NUMBERS
