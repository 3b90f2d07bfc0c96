import type { Readable } from 'node:stream'

/** Output read from one stream, cut at a byte budget. */
export interface CollectedOutput {
  text: string
  truncated: boolean
}

/**
 * Reads a stream to its end, keeping at most `maxBytes` (cut before a UTF-8 character that
 * would not fit whole); the rest is read and dropped so that a command printing without
 * end is neither blocked nor able to fill our memory.
 */
export function collectOutput(stream: Readable | null, maxBytes: number): Promise<CollectedOutput> {
  if (!stream) return Promise.resolve({ text: '', truncated: false })
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let kept = 0
    let truncated = false
    stream.on('data', (chunk: Buffer) => {
      if (kept >= maxBytes) {
        truncated = true
        return
      }
      const room = maxBytes - kept
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk
      truncated ||= piece.length < chunk.length
      chunks.push(piece)
      kept += piece.length
    })
    stream.on('error', reject)
    stream.on('close', () => {
      const kept = Buffer.concat(chunks)
      resolve({ text: (truncated ? wholeCharacters(kept) : kept).toString('utf8'), truncated })
    })
  })
}

/**
 * `bytes` without a UTF-8 character that the cut at the budget left incomplete at its end:
 * a character is kept whole or not at all, never as U+FFFD. Pure.
 */
export function wholeCharacters(bytes: Buffer): Buffer {
  // Back over at most three continuation bytes (10xxxxxx) to the last character's start.
  let start = bytes.length - 1
  while (start > 0 && bytes.length - start < 4 && ((bytes[start] ?? 0) & 0xc0) === 0x80) start--
  const lead = bytes[start] ?? 0
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1
  return start + length > bytes.length ? bytes.subarray(0, start) : bytes
}
