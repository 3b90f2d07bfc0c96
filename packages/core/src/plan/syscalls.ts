import { UnsupportedPlatformError } from '../errors.js'

/** What the in-sandbox init needs to know about the kernel ABI of this CPU architecture. */
export interface KernelAbi {
  mount: number
  sethostname: number
  unshare: number
  prctl: number
  setsid: number
  rtSigprocmask: number
  signalfd4: number
  exitGroup: number
  keyctl: number
  fcntl: number
  closeRange: number
  /** The `O_PATH` open flag. */
  oPath: number
  /** The `O_NOFOLLOW` open flag, which arm64 numbers differently. */
  oNofollow: number
}

const O_PATH_GENERIC = 0o10000000
const O_NOFOLLOW_GENERIC = 0o400000

// x86_64 has its own table; arm64, riscv64 and loong64 share the generic one.
const GENERIC_ABI: KernelAbi = {
  mount: 40,
  sethostname: 161,
  unshare: 97,
  prctl: 167,
  setsid: 157,
  rtSigprocmask: 135,
  signalfd4: 74,
  exitGroup: 94,
  keyctl: 219,
  fcntl: 25,
  closeRange: 436,
  oPath: O_PATH_GENERIC,
  oNofollow: O_NOFOLLOW_GENERIC,
}

const ABI_BY_ARCH: Record<string, KernelAbi> = {
  x64: {
    mount: 165,
    sethostname: 170,
    unshare: 272,
    prctl: 157,
    setsid: 112,
    rtSigprocmask: 14,
    signalfd4: 289,
    exitGroup: 231,
    keyctl: 250,
    fcntl: 72,
    closeRange: 436,
    oPath: O_PATH_GENERIC,
    oNofollow: O_NOFOLLOW_GENERIC,
  },
  arm64: { ...GENERIC_ABI, oNofollow: 0o100000 },
  riscv64: GENERIC_ABI,
  loong64: GENERIC_ABI,
}

/** The kernel ABI for a Node.js `process.arch` value; throws on architectures nsbox does not know. */
export function kernelAbiFor(arch: string): KernelAbi {
  const abi = ABI_BY_ARCH[arch]
  if (!abi) {
    throw new UnsupportedPlatformError(
      `nsbox does not support the ${arch} architecture yet (supported: ${Object.keys(ABI_BY_ARCH).join(', ')}). Please open an issue with the output of \`uname -m\`.`,
    )
  }
  return abi
}
