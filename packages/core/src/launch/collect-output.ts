import type { Readable } from 'node:stream'

/** Output read from one stream, cut at a byte budget. */
export interface CollectedOutput {
  text: string
  truncated: boolean
}

/**
 * Reads a stream to its end, keeping at most `maxBytes`; the rest is read and dropped so
 * that a command printing without end is neither blocked nor able to fill our memory.
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
    stream.on('close', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated }))
  })
}
