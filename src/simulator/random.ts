/**
 * A small seeded PRNG (mulberry32) so that an account is a pure function of its options.
 * Each part of the account draws from its own stream: asking for more reservations does not
 * change the owners or animals a seed produces.
 */
/** Weight tables are module constants: their entries are listed once, not on every draw. */
const entryCache = new WeakMap<object, { keys: string[]; cumulative: number[] }>()

function entriesOf(weights: Readonly<Partial<Record<string, number>>>): { keys: string[]; cumulative: number[] } {
  let entries = entryCache.get(weights)
  if (entries === undefined) {
    let total = 0
    const keys: string[] = []
    const cumulative: number[] = []
    for (const [key, weight] of Object.entries(weights)) {
      total += weight ?? 0
      keys.push(key)
      cumulative.push(total)
    }
    entries = { keys, cumulative }
    entryCache.set(weights, entries)
  }
  return entries
}

export class Random {
  private state: number

  constructor(seed: number, stream: string) {
    let hash = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0
    for (const char of stream) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0
    this.state = hash
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new RangeError('pick() from an empty list')
    return item
  }

  /** One of the keys, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Partial<Record<K, number>>>): K {
    const { keys, cumulative } = entriesOf(weights)
    const roll = this.next() * (cumulative.at(-1) ?? 0)
    const index = cumulative.findIndex((bound) => roll < bound)
    const key = keys[index === -1 ? keys.length - 1 : index]
    if (key === undefined) throw new RangeError('weighted() without weights')
    return key as K
  }
}
