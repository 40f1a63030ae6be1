/**
 * The Gingr v1 simulator: the stand-in for the real service in tests, the demo and benchmarks.
 * It reproduces the quirks of /work/shared/docs/gingr-api.md and, where that page is silent,
 * makes the choices listed here (the client must cope with the other plausible ones too).
 *
 *   const sim = await startSimulator({ seed: 7, reservations: 500, timeZone: 'America/Denver' })
 *   fetch(`${sim.baseUrl}/reservations`, { method: 'POST', body: new URLSearchParams({ key: sim.apiKey, ... }) })
 *   sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'rate-limit', retryAfter: 2 } })
 *   sim.account.cancelReservation('6904'); await sim.stop()
 *
 * Account (a pure function of the options; `today` defaults to the real today in the zone):
 * - ids are numeric strings: owners from 455, animals from 812, reservations from 6904, with gaps.
 * - Reservations start between today-20 and today+45: boarding (drop off 7-10am, pick up
 *   11am-5pm local, 1-14 nights), day camp, grooming (same day) and a 6pm puppy class (ends after
 *   midnight UTC). Status comes only from the dates, as of 12:00 local on `today`: checked out,
 *   checked in, overdue (checked in, past its end), no-show (confirmed, past, never in),
 *   confirmed, pending, wait-listed, cancelled. The first nine reservations plant one of each.
 * - Owners 2 and 3 have a null and an "" email, owners 0 and 1 share one (about 3% more share);
 *   names and notes carry quotes, accents, emoji, right-to-left text and HTML; every 97th
 *   reservation (from the 8th) has a ~30 KB HTML note. One type is inactive, one deleted, and
 *   both are still used by reservations.
 * - The reservation's owner is a subset with the state under `region`; `transaction` and
 *   `deposit` are `[]` when absent, `deposit.amount` and `transaction.price` are JSON numbers;
 *   `location_id`, `source`, `custom_fields` and `services[].quantity` are undocumented extras.
 * - Records are deeply frozen: change them through the account (or replace map entries), never
 *   in place. `changeReservation` applies its patch as is (a field set to undefined disappears).
 * - Mutations stamp the real clock by default (`at`); addReservation makes a confirmed booking
 *   created now, default type 3, the first animal, tomorrow 08:00 local for 51 hours.
 * - Owners and animals: addOwner, changeOwner (patch as is; the reservations' embedded copies
 *   follow), deleteOwner (its animals go with it), addAnimal, changeAnimal, rehomeAnimal (past
 *   reservations keep the owner who booked them), deleteAnimal.
 * - Size: generation is linear and fast; LARGE_ACCOUNT (11,826 owners, 18,469 animals, the
 *   account of one measured nightly run) starts in under a second.
 *
 * HTTP (127.0.0.1 only, idle connections never timed out so that a hang really hangs):
 * - Key: the `key` parameter, in the query string and/or the form body; every copy given must
 *   equal apiKey. Otherwise HTTP 401 `{"success":false,"error":"Invalid API key."}`. Unknown
 *   endpoints are 404 and wrong methods 405 (both before the key check), JSON like the 401.
 * - Parameters: query string and form body merged, the body winning. Bodies are read only when
 *   form-encoded (urlencoded or multipart), as PHP does: a JSON body is ignored.
 * - POST /reservations: `start_date`, `end_date` as YYYY-MM-DD, end ≥ start, end - start ≤ 30
 *   days; otherwise HTTP 200 `{"success":false,"error":true,"message":...}`. The range is
 *   [start 00:00, end+1 00:00) in the facility's zone; `match` 'overlap' returns stays that
 *   overlap it, 'start' those starting in it. `checked_in=true` (or 1) returns the stays checked
 *   in and not out nor cancelled, dates ignored. `location_id` absent, "" or "null" = all
 *   locations, any other = the stays at that location (every stay is at "1" unless a test
 *   changes its `location_id`). Cancelled stays are returned. `data` is keyed by reservation id,
 *   ordered by start then id, and `[]` when empty.
 * - POST /reservations_by_animal, /reservations_by_owner (`id`): every stay of that animal or
 *   owner, whatever its dates, but only at location "1", the API user's (as Gingr's support pages
 *   say these calls answer); a missing id is a JSON error with HTTP 200.
 * - GET|POST /get_locations: `[{"value": "1", "label": "Location 1"}, ...]`, `locations` of them.
 * - POST /recently_cancelled_reservations: same range rules, stays whose cancelled_date is in it.
 * - GET|POST /owners, /animals: `data` is an array; `params[column]=value` filters compare
 *   case-insensitively (MySQL's collation), NULL matches nothing; an unknown column is a JSON
 *   error with HTTP 200. `getOnly` (an option, `sim.getOnly`, or `POST /_sim/methods`) makes an
 *   account that answers them by GET only, as Gingr documents them: a POST there is a 405.
 * - GET|POST /get_breeds, /get_species: `[{"value", "label"}]` (breed ids 11-61; species 1 Dog,
 *   2 Cat, 3 Other as generated, and 4 Bird, 5 Rabbit, 6 Reptile for animals a test adds).
 * - POST /new_modified_owners (`start_date`, `end_date`, the range rules of /reservations, 30
 *   days at most): the owners created or changed in the range, by id. Generated owners were last
 *   changed on a day of the two years before `today` (a function of the id); the account's
 *   owner mutations stamp the real clock (or `at`).
 * - GET|POST /owner: the first given of id, animal_id, reservation_id, phone (last 10 digits of
 *   cell or home phone), email (case-insensitive; the lowest id among owners sharing it) decides;
 *   `data` is the owner or `[]`; none given is a JSON error with HTTP 200.
 * - GET|POST /reservation_types: `data` is an array of every type, deleted ones included;
 *   `id` picks one, `active_only=true` (or 1) keeps status "1" and is_deleted "0".
 * Latency (`latencyMs`): every API request waits that long before it is answered, whatever the
 * answer (a fault's and a 401 included), as a distant server does; a 'delay' fault adds to it.
 * Control requests never wait; stop() ends the waits as it ends a 'delay'.
 * Faults (see faults.ts) are decided before anything else, so a replacing fault (status,
 * rate-limit, html, json-error, hang) answers even a request with a bad key; body faults
 * (truncated, malformed) damage whatever the normal answer was; data faults only change successful
 * answers. 'hang' and 'delay' end when the client aborts or stop() is called (the connection is
 * reset, no response is written). `n` in `when` counts requests per endpoint since start; a
 * request that hangs or is refused still counts. Error bodies: 404/405/401 carry
 * `{"success":false,"error":"<sentence>"}`, a 'status' fault `{"success":false,"error":"HTTP 502"}`.
 * Performance: records are encoded once (in the background right after start, in slices that let
 * requests through) and answers are a copy of those bytes.
 * The control API for other processes (`/_sim/...`, no key) is documented in control.ts; the
 * standalone process (`bun run sim -- --port 8080 ...`) in main.ts.
 */
import { Account, type MatchMode } from './account.ts'
import { FaultBook } from './faults.ts'
import { API_PREFIX, type SimRequest, startServer } from './server.ts'
import { assertTimeZone, isCalendarDay, todayInZone } from './zone.ts'

export type { AddReservationSpec, SimAccount } from './account.ts'
export type { Fault, FaultRequest, FaultRule, SimFaults } from './faults.ts'
export type { SimRequest } from './server.ts'
export type { WireAnimal, WireOwner, WireReservation, WireReservationOwner, WireReservationType, WireService } from './wire.ts'
export { facilityTimestamp } from './wire.ts'

/** The account of the measured nightly run the full sync replaces (docs/gingr-api.md). */
export const LARGE_ACCOUNT = { owners: 11_826, animals: 18_469 } as const

export interface SimulatorOptions {
  /** 0 (default) = a free port; the hostname is always 127.0.0.1. */
  port?: number
  /** Default `sim-key-${seed}`. */
  apiKey?: string
  /** Default 1; everything generated is a pure function of the options. */
  seed?: number
  /** Default 40. */
  owners?: number
  /** Default 60, each belonging to an owner. */
  animals?: number
  /** Default 120, starting from about today-20 to today+45 days. */
  reservations?: number
  /** The facility's IANA zone, default 'America/Denver'. */
  timeZone?: string
  /** 'YYYY-MM-DD', default today in timeZone. */
  today?: string
  /** How /reservations matches a range; default 'overlap'. */
  match?: MatchMode
  /** Locations the account has (/get_locations), default 1; stays are at "1" unless changed. */
  locations?: number
  /** Endpoints that refuse POST (405) and answer GET only, e.g. ['/owners', '/animals']. */
  getOnly?: string[]
  /**
   * Milliseconds every API request waits before it is answered (default 0): the round trip and
   * server time of a Gingr far away, the same for every request, so that runs compare.
   */
  latencyMs?: number
}

export interface Simulator {
  /** 'http://127.0.0.1:PORT/api/v1', what GINGR_BASE_URL is set to. */
  baseUrl: string
  apiKey: string
  account: Account
  faults: FaultBook
  /** Every API request received, in order (control requests excluded). */
  requests: SimRequest[]
  /** Endpoints answering GET only (405 to POST); change it at any time. */
  getOnly: Set<string>
  /** Closes the server and resets hanging or delayed requests. */
  stop(): Promise<void>
}

function count(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback
  if (!Number.isSafeInteger(result) || result < 0) throw new RangeError(`${name} must be a whole number ≥ 0, not ${result}`)
  return result
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const seed = count('seed', options.seed, 1)
  const timeZone = options.timeZone ?? 'America/Denver'
  assertTimeZone(timeZone)
  const today = options.today ?? todayInZone(timeZone)
  if (!isCalendarDay(today)) throw new RangeError(`today must be a date written YYYY-MM-DD, not ${today}`)
  const owners = count('owners', options.owners, 40)
  const animals = count('animals', options.animals, 60)
  const reservations = count('reservations', options.reservations, 120)
  if (animals > 0 && owners === 0) throw new RangeError('Animals need at least one owner')
  if (reservations > 0 && animals === 0) throw new RangeError('Reservations need at least one animal')
  const match = options.match ?? 'overlap'
  if (match !== 'overlap' && match !== 'start') throw new RangeError(`match must be 'overlap' or 'start', not ${String(match)}`)

  const locations = count('locations', options.locations, 1)
  if (locations < 1) throw new RangeError('An account has at least one location')
  const account = new Account({ seed, owners, animals, reservations, timeZone, today, match, locations })
  const faults = new FaultBook()
  const requests: SimRequest[] = []
  const apiKey = options.apiKey ?? `sim-key-${seed}`
  const getOnly = new Set(options.getOnly ?? [])
  const latencyMs = count('latencyMs', options.latencyMs, 0)
  const server = startServer({ account, faults, requests, apiKey, getOnly, latencyMs }, count('port', options.port, 0))
  return { baseUrl: `${server.origin}${API_PREFIX}`, apiKey, account, faults, requests, getOnly, stop: server.stop }
}
