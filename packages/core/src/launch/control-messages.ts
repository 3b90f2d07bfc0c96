/** A message the in-sandbox init sent on the control socket. */
export type ControlMessage =
  | { type: 'started' }
  | { type: 'exit'; code: number }
  | { type: 'signal'; signal: number }
  | { type: 'setup-error'; step: string; errno: number }
  | { type: 'exec-error'; errno: number }
  | { type: 'cpu'; milliseconds: number }

/** Parses one control line; unknown lines give `undefined`. */
export function parseControlLine(line: string): ControlMessage | undefined {
  if (line === 'started') return { type: 'started' }
  let match = /^exit (\d+)$/.exec(line)
  if (match) return { type: 'exit', code: Number(match[1]) }
  match = /^signal (\d+)$/.exec(line)
  if (match) return { type: 'signal', signal: Number(match[1]) }
  match = /^cpu (\d+)$/.exec(line)
  if (match) return { type: 'cpu', milliseconds: Number(match[1]) }
  match = /^exec-error (\d+)$/.exec(line)
  if (match) return { type: 'exec-error', errno: Number(match[1]) }
  match = /^error (.+)\t(\d+)$/.exec(line)
  if (match) return { type: 'setup-error', step: match[1] ?? '', errno: Number(match[2]) }
  return undefined
}

/** Splits a stream of control bytes into lines, keeping a partial last line for later. */
export class ControlLineReader {
  #pending = ''
  readonly messages: ControlMessage[] = []

  push(chunk: string): void {
    this.#pending += chunk
    let newline = this.#pending.indexOf('\n')
    while (newline !== -1) {
      const message = parseControlLine(this.#pending.slice(0, newline))
      if (message) this.messages.push(message)
      this.#pending = this.#pending.slice(newline + 1)
      newline = this.#pending.indexOf('\n')
    }
  }
}
