import type { TestEvents, UnsubscribeFn } from 'jest-runner'

type Listener<Name extends keyof TestEvents> = (data: TestEvents[Name]) => void | Promise<void>

/**
 * The events a Jest runner emits to Jest, whose listeners may be async: `emit` settles
 * once every listener has, so that Jest sees a file's events in order.
 */
export class RunnerEvents {
  readonly #listeners = new Map<string, Set<Listener<keyof TestEvents>>>()

  on<Name extends keyof TestEvents>(name: Name, listener: Listener<Name>): UnsubscribeFn {
    const listeners = this.#listeners.get(name) ?? new Set()
    this.#listeners.set(name, listeners)
    listeners.add(listener as Listener<keyof TestEvents>)
    return () => listeners.delete(listener as Listener<keyof TestEvents>)
  }

  async emit<Name extends keyof TestEvents>(name: Name, data: TestEvents[Name]): Promise<void> {
    await Promise.all([...(this.#listeners.get(name) ?? [])].map((listener) => listener(data)))
  }
}
