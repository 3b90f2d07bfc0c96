import { StringDecoder } from 'node:string_decoder'
import v8 from 'node:v8'

/** How Node.js frames messages on an IPC channel (`serialization` of `child_process`). */
export type Serialization = 'json' | 'advanced'

/** What {@link MessageReader.push} found: the whole messages, or a message over the cap. */
export type ReadOutcome =
  | { messages: unknown[]; overflowBytes?: undefined }
  /**
   * A message is larger than the cap: `overflowBytes` is its size (`'advanced'`, from its
   * header) or how much of it came before it went over (`'json'`).
   */
  | { messages: unknown[]; overflowBytes: number }

const HEADER_BYTES = 4

/**
 * Parses the byte stream of a Node.js IPC channel into messages, as Node.js does, but
 * holds at most `maxMessageBytes` (and one chunk) of it: a message that grows past the cap
 * is reported at once, before it is whole, from its length header (`'advanced'`) or its
 * bytes so far (`'json'`). After an overflow the reader is spent.
 */
export class MessageReader {
  readonly #serialization: Serialization
  readonly #maxMessageBytes: number
  #chunks: Buffer[] = []
  #bufferedBytes = 0
  #decoder = new StringDecoder('utf8')
  #line = ''
  #lineBytes = 0
  #isSpent = false

  constructor(serialization: Serialization, maxMessageBytes: number) {
    this.#serialization = serialization
    this.#maxMessageBytes = maxMessageBytes
  }

  /** Takes the next chunk read from the channel. */
  push(chunk: Buffer): ReadOutcome {
    if (this.#isSpent) return { messages: [] }
    const outcome =
      this.#serialization === 'advanced' ? this.#pushAdvanced(chunk) : this.#pushJson(chunk)
    if (outcome.overflowBytes !== undefined) this.#spend()
    return outcome
  }

  // A big-endian uint32 length, then that many bytes of V8-serialized value.
  #pushAdvanced(chunk: Buffer): ReadOutcome {
    this.#chunks.push(chunk)
    this.#bufferedBytes += chunk.length
    const messages: unknown[] = []
    while (this.#bufferedBytes >= HEADER_BYTES) {
      const head = this.#peek(HEADER_BYTES)
      const size = head.readUInt32BE(0)
      if (size > this.#maxMessageBytes) return { messages, overflowBytes: size }
      if (this.#bufferedBytes < HEADER_BYTES + size) break
      const frame = this.#take(HEADER_BYTES + size)
      messages.push(deserialize(frame.subarray(HEADER_BYTES)))
    }
    return { messages }
  }

  // One JSON text per line.
  #pushJson(chunk: Buffer): ReadOutcome {
    const lines = this.#decoder.write(chunk).split('\n')
    const messages: unknown[] = []
    const last = lines.pop() ?? ''
    for (const line of lines) {
      const bytes = this.#lineBytes + Buffer.byteLength(line)
      const text = this.#line + line
      this.#line = ''
      this.#lineBytes = 0
      if (bytes > this.#maxMessageBytes) return { messages, overflowBytes: bytes }
      messages.push(JSON.parse(text))
    }
    this.#line += last
    this.#lineBytes += Buffer.byteLength(last)
    if (this.#lineBytes > this.#maxMessageBytes) {
      return { messages, overflowBytes: this.#lineBytes }
    }
    return { messages }
  }

  #peek(bytes: number): Buffer {
    const first = this.#chunks[0] as Buffer
    if (first.length >= bytes) return first
    const joined = Buffer.concat(this.#chunks)
    this.#chunks = [joined]
    return joined
  }

  #take(bytes: number): Buffer {
    const joined = this.#peek(bytes)
    const frame = joined.subarray(0, bytes)
    const rest = joined.subarray(bytes)
    this.#chunks = rest.length > 0 ? [rest] : []
    this.#bufferedBytes -= bytes
    return frame
  }

  #spend(): void {
    this.#isSpent = true
    this.#chunks = []
    this.#bufferedBytes = 0
    this.#line = ''
    this.#lineBytes = 0
  }
}

/** Frames `message` as Node.js does for `serialization` (the child reads it as its own). */
export function frameMessage(serialization: Serialization, message: unknown): Buffer {
  if (serialization === 'json') return Buffer.from(`${JSON.stringify(message)}\n`)
  const serializer = new ChildProcessSerializer()
  serializer.writeHeader()
  serializer.writeValue(message)
  const body = serializer.releaseBuffer()
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32BE(body.length, 0)
  return Buffer.concat([header, body])
}

/** Whether a message is one of Node.js's own (`{ cmd: 'NODE_…' }`), not the program's. */
export function isInternalMessage(message: unknown): boolean {
  const command = (message as { cmd?: unknown } | null)?.cmd
  return typeof command === 'string' && command.startsWith('NODE_')
}

// Node.js's 'advanced' serialization: V8's, with a tag before each host object (0 for an
// ArrayBufferView, 1 for any other, sent as a plain object).
const ARRAY_BUFFER_VIEW = 0
const OTHER_HOST_OBJECT = 1

// @types/node leaves out these hooks of V8's serializer.
interface HostObjectHooks {
  _writeHostObject(object: object): void
  _readHostObject(): unknown
}
const baseSerializer = v8.DefaultSerializer.prototype as unknown as HostObjectHooks
const baseDeserializer = v8.DefaultDeserializer.prototype as unknown as HostObjectHooks

class ChildProcessSerializer extends v8.DefaultSerializer {
  _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(ARRAY_BUFFER_VIEW)
      baseSerializer._writeHostObject.call(this, object)
      return
    }
    this.writeUint32(OTHER_HOST_OBJECT)
    this.writeValue({ ...object })
  }
}

class ChildProcessDeserializer extends v8.DefaultDeserializer {
  _readHostObject(): unknown {
    const tag = this.readUint32()
    if (tag === ARRAY_BUFFER_VIEW) return baseDeserializer._readHostObject.call(this)
    return this.readValue()
  }
}

function deserialize(body: Buffer): unknown {
  const deserializer = new ChildProcessDeserializer(body)
  deserializer.readHeader()
  return deserializer.readValue()
}
