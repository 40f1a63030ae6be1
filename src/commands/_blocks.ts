import type { Logger } from '../log.ts'

type Level = 'info' | 'warn' | 'error'
export type Lines = Pick<Logger, Level>

/**
 * The log of tenants synced side by side, one whole block per tenant: one tenant's block is
 * printed as it comes (with its real timestamps: a tenant synced alone reads exactly as before),
 * the others' lines are held until it ends; then the blocks that ended meanwhile are printed
 * whole, and the oldest still in flight is printed so far and goes on live.
 */
export class TenantBlocks {
  readonly #out: Lines
  #live: string | undefined
  /** The other tenants' lines, in the order their blocks began; `done` once their block ended. */
  readonly #held = new Map<string, { lines: [Level, string][]; done: boolean }>()

  constructor(out: Lines) {
    this.#out = out
  }

  /** Where tenant `tenantId`'s lines go. */
  of(tenantId: string): Lines {
    const write = (level: Level) => (text: string) => this.#write(tenantId, level, text)
    return { info: write('info'), warn: write('warn'), error: write('error') } as Lines
  }

  /** Tenant `tenantId`'s block is complete. */
  end(tenantId: string): void {
    if (tenantId !== this.#live) {
      this.#block(tenantId).done = true
      return
    }
    this.#live = undefined
    for (const [id, block] of this.#held) {
      if (!block.done) continue
      this.#print(block.lines)
      this.#held.delete(id)
    }
    const [next] = this.#held
    if (!next) return
    this.#held.delete(next[0])
    this.#print(next[1].lines)
    this.#live = next[0]
  }

  #write(tenantId: string, level: Level, text: string): void {
    // With none live, none is held either: end() printed or promoted every held block.
    this.#live ??= tenantId
    if (tenantId === this.#live) this.#out[level](text)
    else this.#block(tenantId).lines.push([level, text])
  }

  #block(tenantId: string) {
    let block = this.#held.get(tenantId)
    if (!block) {
      block = { lines: [], done: false }
      this.#held.set(tenantId, block)
    }
    return block
  }

  #print(lines: readonly [Level, string][]): void {
    for (const [level, text] of lines) this.#out[level](text)
  }
}
