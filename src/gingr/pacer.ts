/**
 * Politeness towards one Gingr account, shared by every client that talks to it: tenants synced
 * side by side with the same subdomain are one account to Gingr, and its rate limit counts their
 * requests together. Requests to the account start at least `paceMs` apart, and a 429's wait
 * (its `Retry-After`, else the client's backoff) holds every client of the account, not only the
 * one that was told.
 */
export class AccountPacer {
  readonly #paceMs: number
  readonly #now: () => number
  /** The earliest start of the account's next request. */
  #nextAt = 0
  /** Until when Gingr asked the account to wait. */
  #heldUntil = 0

  constructor(paceMs: number, now: () => number = Date.now) {
    this.#paceMs = paceMs
    this.#now = now
  }

  /**
   * Waits for the account's next turn and takes it (at once when the signal is aborted). The slot
   * is reserved before the wait, so that clients waiting together leave one after the other.
   */
  async turn(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.#now()
      const at = Math.max(now, this.#nextAt, this.#heldUntil)
      this.#nextAt = at + this.#paceMs
      if (at <= now || signal?.aborted) return
      await sleep(at - now, signal)
      // Gingr may have asked the account to wait while this client did: then a later slot.
      if (this.#heldUntil <= this.#now() || signal?.aborted) return
    }
  }

  /** Gingr asked to wait `ms` (429): no client of the account sends before then. */
  holdOff(ms: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, this.#now() + ms)
  }
}

/** One pacer per account, keyed by its address: the pacers of one run. */
export class AccountPacers {
  readonly #paceMs: number
  readonly #byAccount = new Map<string, AccountPacer>()

  constructor(paceMs: number) {
    this.#paceMs = paceMs
  }

  /**
   * The pacer of the account: by its subdomain (Gingr's name for an account, whatever address it
   * is reached at: a proxy or the simulator in `baseUrl` serves many), else by its address.
   */
  of(account: { subdomain: string; baseUrl?: string }): AccountPacer {
    const key = account.subdomain
      ? `subdomain ${account.subdomain.toLowerCase()}`
      : `url ${(account.baseUrl ?? '').replace(/\/+$/, '').toLowerCase()}`
    let pacer = this.#byAccount.get(key)
    if (!pacer) {
      pacer = new AccountPacer(this.#paceMs)
      this.#byAccount.set(key, pacer)
    }
    return pacer
  }
}

/** Waits `ms`, or less when `signal` aborts: the caller then sees the abort and reports it. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
