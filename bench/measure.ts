/**
 * What several parts of the bench share: the window fetched as the binary fetches it, a connection
 * that counts the statements it sends, a timer.
 */
import { connect, type Sql } from '../src/db/connect.ts'
import { GingrClient } from '../src/gingr/client.ts'
import type { Reservation } from '../src/gingr/schemas.ts'
import type { Simulator } from '../src/simulator/index.ts'
import { syncWindow } from '../src/sync/window.ts'
import { TENANT_ZONE } from './databases.ts'

/**
 * The simulator spreads stays from today-20 to today+45; about 61% of them overlap the default
 * window (7 days back, 30 ahead), measured on this generator. The real fetched count is reported.
 */
export const GENERATED_PER_FETCHED = 1.64

/** The default window of the bench's tenant, as the binary fetches it. */
export async function fetchWindow(sim: Simulator): Promise<Reservation[]> {
  const client = new GingrClient({ subdomain: 'bench', apiKey: sim.apiKey, baseUrl: sim.baseUrl })
  const { reservations, invalid } = await client.fetchReservationWindow(syncWindow(TENANT_ZONE, 7, 30))
  if (invalid.length > 0) throw new Error(`The simulator sent ${invalid.length} invalid reservations; the benchmark expects none.`)
  return reservations
}

/** A connection that counts what it sends, as the binary's does. */
export function countingConnection(url: string): { sql: Sql; statements: () => number } {
  let count = 0
  return { sql: connect(url, { max: 1, onQuery: () => count++ }), statements: () => count }
}

export async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await action()
  return performance.now() - started
}
