/**
 * Every wait gingr-sync chooses for itself, in one place, with production's values and their reasons.
 *
 * The tests shorten them through GINGR_SYNC_TEST_TIMING, a JSON object of the values to change
 * (`{"backoffBaseMs":10,"pingTimeoutMs":500}`), read from the process's own environment only (never
 * from `--env-file`), so that the compiled binary in the end-to-end tests can wait milliseconds where
 * production waits seconds. It is left out of `--help`, the README and the env file template on
 * purpose: an operator has no reason to set it, and a malformed one is refused (exit 2) rather than
 * silently ignored, since a typo would otherwise put production's waits back without a word.
 */
import * as v from 'valibot'
import { UsageError } from './errors.ts'

export const PRODUCTION_TIMING = {
  /** One Gingr request, body included: `--timeout`'s default. */
  gingrTimeoutMs: 30_000,
  /** A whole public call (a window of chunks), attempts and waits included: cron runs hourly. */
  gingrDeadlineMs: 5 * 60_000,
  /** Retry backoff, full jitter: attempt n waits a random time up to min(max, base × 2^(n-1)). */
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  /** Between two chunk requests: real Gingr clients keep about 150 ms between calls. */
  paceMs: 150,
  /** doctor answers a person at a terminal, so it gives up sooner than the hourly sync. */
  doctorTimeoutMs: 10_000,
  doctorBackoffBaseMs: 500,
  /**
   * A tenant's claim by one run (src/db/leases.ts), renewed every leaseRenewMs while the run works
   * on it, so that it runs out only for a host that died: its tenants are free a minute later. Six
   * renewals to a lease: a host busy parsing a large answer for seconds keeps its tenants.
   */
  leaseMs: 60_000,
  leaseRenewMs: 10_000,
  /** A full sync waiting for the tenant's lock (held by an hourly run) tries again this often. */
  lockPollMs: 500,
  /** A monitoring ping is a courtesy to the monitor: a silent one must not hold the run. */
  pingTimeoutMs: 5_000,
  /**
   * What closing the database pool at exit may wait for. A transaction whose connection was lost is
   * left pending on purpose (db/transaction.ts), and postgres.js waits this long for it to finish.
   */
  closeTimeoutMs: 5_000,
} as const

export type Timing = { readonly [K in keyof typeof PRODUCTION_TIMING]: number }

export const TIMING_VARIABLE = 'GINGR_SYNC_TEST_TIMING'

const MAX_MS = 86_400_000
const Milliseconds = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_MS))

/** Production's timing with `text` (GINGR_SYNC_TEST_TIMING's value, if any) over it. */
export function parseTiming(text: string | undefined): Timing {
  if (text === undefined || text.trim() === '') return { ...PRODUCTION_TIMING }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // The parser's message quotes what it found; like every setting, this one is never quoted back.
    throw new UsageError(`${TIMING_VARIABLE} is not valid JSON.`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`${TIMING_VARIABLE} must be a JSON object such as {"backoffBaseMs":10}.`)
  }
  const result: Record<string, number> = { ...PRODUCTION_TIMING }
  for (const [key, value] of Object.entries(json)) {
    if (!Object.hasOwn(PRODUCTION_TIMING, key)) {
      throw new UsageError(`${TIMING_VARIABLE} has no setting "${key}"; it knows ${Object.keys(PRODUCTION_TIMING).join(', ')}.`)
    }
    const parsed = v.safeParse(Milliseconds, value)
    if (!parsed.success) {
      throw new UsageError(`${TIMING_VARIABLE}: ${key} must be a whole number of milliseconds from 0 to ${MAX_MS}.`)
    }
    result[key] = parsed.output
  }
  return result as Timing
}

let current: Timing | undefined

/** The timing in force, read from the environment once: the first call throws when it is malformed. */
export function timing(): Timing {
  current ??= parseTiming(process.env[TIMING_VARIABLE])
  return current
}
