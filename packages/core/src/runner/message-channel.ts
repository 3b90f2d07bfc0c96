import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { resolveLauncherTools } from '../probe/tools.js'
import {
  frameMessage,
  isInternalMessage,
  MessageReader,
  type Serialization,
} from './message-framing.js'

/** The file descriptor the sandboxed Node.js finds its IPC channel on. */
const CHANNEL_FD = 3

// Connects to the runner's socket on fd 3 and becomes the command. Plain Perl, no
// modules (they cost a sandbox's start-up dearly on slow machines): AF_UNIX and
// SOCK_STREAM are 1 on every architecture nsbox runs on, and with $^F at 3 the socket,
// the lowest free descriptor, stays open across exec.
const CONNECT_SCRIPT = [
  `$^F = ${CHANNEL_FD}; my $path = shift @ARGV;`,
  'socket(my $s, 1, 1, 0) or die "nsbox: message channel: socket: $!\\n";',
  'connect($s, pack("S Z*", 1, $path)) or die "nsbox: message channel: connect $path: $!\\n";',
  `fileno($s) == ${CHANNEL_FD} or die "nsbox: message channel: fd ${CHANNEL_FD} is taken\\n";`,
  'exec { $ARGV[0] } @ARGV or die "nsbox: cannot run $ARGV[0]: $!\\n";',
].join(' ')

/** How a sandboxed Node.js is started on a {@link MessageChannel}. */
export interface ChannelCommand {
  file: string
  args: string[]
  /** Add these to the command's environment: they hand Node.js its IPC channel. */
  env: Record<string, string>
}

/**
 * A Node.js IPC channel to one sandboxed process (its `process.send()` and `'message'`)
 * whose messages the host parses itself, with a cap on each: Node.js's own channel would
 * hold a whole message in the host's memory, however large, before handing it over. The
 * channel is a UNIX socket that the sandboxed command connects to before Node.js starts.
 *
 * Events: `'message'` (a message); `'overflow'` (the size of a message over the cap, or
 * `null` when only its start is known, as with `'json'`) and `'broken'` (an `Error`: bytes
 * that are no message), after which the channel is closed; `'disconnect'`.
 */
export class MessageChannel extends EventEmitter {
  readonly #serialization: Serialization
  readonly #maxMessageBytes: number
  readonly #directory: string
  readonly #socketPath: string
  readonly #server: net.Server
  #socket: net.Socket | null = null
  #queued: Buffer[] = []
  #isClosed = false
  #hasStoppedListening = false

  /**
   * Listens on a fresh socket, in a private directory under the host's temporary
   * directory; call {@link MessageChannel.command} for the command that connects to it.
   *
   * @param serialization - As `child_process`'s option of that name.
   * @param maxMessageBytes - The cap on each message from the sandbox.
   */
  static async open(
    serialization: Serialization,
    maxMessageBytes: number,
  ): Promise<MessageChannel> {
    const channel = new MessageChannel(serialization, maxMessageBytes)
    await new Promise<void>((resolve, reject) => {
      channel.#server.once('error', reject)
      channel.#server.listen(channel.#socketPath, () => resolve())
    })
    // Once listening, a failing server only means that no sandbox connects: its end says so.
    channel.#server.on('error', () => channel.close())
    return channel
  }

  private constructor(serialization: Serialization, maxMessageBytes: number) {
    super()
    this.#serialization = serialization
    this.#maxMessageBytes = maxMessageBytes
    this.#directory = mkdtempSync(path.join(os.tmpdir(), 'nsbox-channel-'))
    this.#socketPath = path.join(this.#directory, 'socket')
    // Only the first connection is the sandbox's.
    this.#server = net.createServer((socket) => {
      this.#stopListening()
      if (this.#isClosed || this.#socket) return void socket.destroy()
      this.#attach(socket)
    })
  }

  /**
   * The command line that runs `file args…` on this channel: a small Perl step connects to
   * the socket and execs the command with the connection as its IPC channel. Its one
   * absolute argument under `/tmp`, the socket, makes the sandbox keep that directory.
   */
  command(file: string, args: readonly string[]): ChannelCommand {
    const { perl } = resolveLauncherTools()
    return {
      file: perl,
      args: ['-e', CONNECT_SCRIPT, this.#socketPath, file, ...args],
      env: {
        NODE_CHANNEL_FD: String(CHANNEL_FD),
        NODE_CHANNEL_SERIALIZATION_MODE: this.#serialization,
      },
    }
  }

  /** Whether the channel is open (once the sandboxed process has connected, or before). */
  get connected(): boolean {
    return !this.#isClosed
  }

  /** Sends a message; held until the sandboxed process connects. */
  send(message: unknown): boolean {
    if (this.#isClosed) return false
    const frame = frameMessage(this.#serialization, message)
    if (this.#socket) return this.#socket.write(frame)
    this.#queued.push(frame)
    return true
  }

  /** Closes the channel: the sandboxed process sees its `'disconnect'`. */
  close(): void {
    if (this.#isClosed) return
    this.#isClosed = true
    this.#queued = []
    this.#stopListening()
    this.#socket?.end()
    this.emit('disconnect')
  }

  #attach(socket: net.Socket): void {
    this.#socket = socket
    const reader = new MessageReader(this.#serialization, this.#maxMessageBytes)
    socket.on('data', (chunk: Buffer) => {
      let outcome: ReturnType<MessageReader['push']>
      try {
        outcome = reader.push(chunk)
      } catch (error) {
        socket.destroy()
        this.emit('broken', error)
        this.close()
        return
      }
      for (const message of outcome.messages) {
        if (!isInternalMessage(message)) this.emit('message', message)
      }
      if (outcome.overflowBytes !== undefined) {
        socket.destroy()
        const isSizeKnown = this.#serialization === 'advanced'
        this.emit('overflow', isSizeKnown ? outcome.overflowBytes : null)
        this.close()
      }
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.close())
    for (const frame of this.#queued) socket.write(frame)
    this.#queued = []
  }

  #stopListening(): void {
    if (this.#hasStoppedListening) return
    this.#hasStoppedListening = true
    this.#server.close()
    rmSync(this.#directory, { recursive: true, force: true })
  }
}
