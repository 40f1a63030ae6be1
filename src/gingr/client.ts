/**
 * The Gingr v1 client. Everything is a form POST with the key in the body, so the key never lands
 * in a URL (proxy and server access logs keep URLs). Every request has a timeout, every public call
 * a deadline, and retries are bounded: the script this replaces hung forever on a silent server.
 * The one exception: Gingr documents its lists (`/owners`, `/animals`, the look-ups) as GET with the
 * key in the query string; an account that refuses them as POST (405, or 404) is asked by GET, and
 * that URL, key and all, is never put in a message (#scrub, and `send` keeps only fetch's message,
 * never its error object, whose `path` is the URL).
 */
import type * as v from 'valibot'
import pkg from '../../package.json'
import { hideSecret } from '../secrets.ts'
import { timing } from '../timing.ts'
import { type DateRange, splitIntoChunks } from './chunks.ts'
import { formatDuration, GingrError, type GingrErrorKind } from './errors.ts'
import { type EachRecord, type Failure, interpret, recordsOf, send } from './http.ts'
import { type AccountPacer, sleep } from './pacer.ts'
import {
  type Animal,
  animalSchema,
  asReservations,
  type Envelope,
  type InvalidItem,
  type InvalidRecord,
  Lookup,
  Owner,
  parseRecords,
  type Reservation,
  ReservationType,
  recordReader,
  reservationSchema,
} from './schemas.ts'

export interface GingrClientOptions {
  subdomain: string
  apiKey: string
  /** Overrides `https://{subdomain}.gingrapp.com/api/v1` (the simulator, GINGR_BASE_URL). */
  baseUrl?: string
  /** One request, body included. The timing defaults are src/timing.ts's. */
  timeoutMs?: number
  /** Per request (per chunk), the first attempt included. */
  maxAttempts?: number
  /** A whole public call (a whole window of chunks): attempts, waits and pauses included. */
  deadlineMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** Pause between two chunk requests. */
  paceMs?: number
  /** The largest answer read, in bytes (decompressed); past it the request fails. */
  maxResponseBytes?: number
  userAgent?: string
  /** The facility's IANA time zone: reads the timestamps Gingr writes without an offset. */
  timeZone?: string
  /** Aborts everything at once (SIGTERM). */
  signal?: AbortSignal
  /** The clock deadlines and `Retry-After` dates are read against: a test can set it ahead. */
  now?: () => number
  /**
   * The account's pace and 429 back-off, shared with the other clients of the same account
   * (src/gingr/pacer.ts); without one, this client paces only itself.
   */
  pacer?: AccountPacer
}

export interface ReservationWindow<Kept = Reservation> {
  /** Merged over the chunks, one per reservation id (the last one seen wins), as `keep` made them. */
  reservations: Kept[]
  invalid: InvalidRecord[]
  /** HTTP requests made, retries included. */
  requests: number
  chunks: number
}

/** The deadline and request count shared by all attempts of one public call. */
interface Budget {
  deadlineAt: number
  requests: number
}

interface Call {
  endpoint: string
  range?: DateRange
}

type Method = 'POST' | 'GET'

/**
 * What a call makes of an answer: `each` validates a record as it arrives (json.ts), `all` makes
 * the call's result of the answer's `data`, each record in it as `each` made it.
 */
interface Read<T> {
  each: EachRecord
  all: (data: Envelope['data']) => T
}

const same = <T>(value: T): T => value

/** `recordReader` with parseRecords' reports: an invalid record named by its `reservation_id`. */
function byReservation<const TSchema extends v.GenericSchema, Kept = v.InferOutput<TSchema>>(
  schema: TSchema,
  keep: (record: v.InferOutput<TSchema>) => Kept = same as (record: v.InferOutput<TSchema>) => Kept,
): Read<{ records: Kept[]; invalid: InvalidRecord[] }> {
  const read = recordReader(schema, 'reservation_id', keep)
  return { each: read.each, all: (data) => asReservations(read.all(data)) }
}

type OwnerQuery = Partial<Record<'id' | 'animal_id' | 'reservation_id' | 'phone' | 'email', string>>

/**
 * The largest Gingr answer read: a 30-day chunk of a large account is a few tens of MB of JSON
 * (10,000 reservations are 12.8 MB), and /animals of a large account one answer of tens of MB.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024

/** `{subdomain}.gingrapp.com`: one DNS label, so that no setting can point the client elsewhere. */
export function isGingrSubdomain(text: string): boolean {
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(text)
}

export class GingrClient {
  readonly baseUrl: string
  // Private (#) so that logging or inspecting the client cannot show the key.
  readonly #apiKey: string
  readonly #timeoutMs: number
  readonly #maxAttempts: number
  readonly #deadlineMs: number
  readonly #backoffBaseMs: number
  readonly #backoffMaxMs: number
  readonly #paceMs: number
  readonly #maxResponseBytes: number
  readonly #userAgent: string
  readonly #signal: AbortSignal | undefined
  readonly #pacer: AccountPacer | undefined
  readonly #reservation: ReturnType<typeof reservationSchema>
  readonly #animal: ReturnType<typeof animalSchema>
  /** The list endpoints this account refused as POST: asked by GET for the rest of the client's life. */
  readonly #getOnly = new Set<string>()
  /** When this client's last call was answered (0: never), for the pause between calls. */
  #answeredAt = 0
  readonly #now: () => number

  constructor(options: GingrClientOptions) {
    if (options.baseUrl === undefined && !isGingrSubdomain(options.subdomain)) {
      throw new RangeError(`"${options.subdomain}" is not a Gingr subdomain (letters, digits and dashes)`)
    }
    this.baseUrl = (options.baseUrl ?? `https://${options.subdomain}.gingrapp.com/api/v1`).replace(/\/+$/, '')
    this.#apiKey = options.apiKey
    const defaults = timing()
    this.#timeoutMs = options.timeoutMs ?? defaults.gingrTimeoutMs
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4)
    this.#deadlineMs = options.deadlineMs ?? defaults.gingrDeadlineMs
    this.#backoffBaseMs = options.backoffBaseMs ?? defaults.backoffBaseMs
    this.#backoffMaxMs = options.backoffMaxMs ?? defaults.backoffMaxMs
    this.#paceMs = options.paceMs ?? defaults.paceMs
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    this.#userAgent = options.userAgent ?? `gingr-sync/${pkg.version}`
    this.#signal = options.signal
    this.#pacer = options.pacer
    this.#reservation = reservationSchema(options.timeZone)
    this.#animal = animalSchema(options.timeZone)
    this.#now = options.now ?? Date.now
  }

  /**
   * All reservations of an inclusive date range, fetched in chunks of at most 30 days (Gingr's
   * limit), one after the other. A reservation spanning two chunks may come back in both.
   * `keep` makes what is kept of each reservation as soon as it is validated (the sync keeps the
   * rows it writes): a large window's records are then never all held at once.
   */
  async fetchReservationWindow(range: DateRange): Promise<ReservationWindow>
  async fetchReservationWindow<Kept>(range: DateRange, keep: (reservation: Reservation) => Kept): Promise<ReservationWindow<Kept>>
  async fetchReservationWindow(
    range: DateRange,
    keep: (reservation: Reservation) => unknown = (r) => r,
  ): Promise<ReservationWindow<unknown>> {
    const chunks = splitIntoChunks(range)
    const budget = this.#budget()
    const byId = new Map<string, unknown>()
    const invalid: InvalidRecord[] = []
    const reported = new Set<string>()
    for (const chunk of chunks) {
      const call = { endpoint: '/reservations', range: chunk }
      const read = byReservation(this.#reservation, (r) => [r.reservation_id, keep(r)] as const)
      const parsed = await this.#paced(call, { start_date: chunk.from, end_date: chunk.to }, budget, read)
      for (const [id, kept] of parsed.records) byId.set(id, kept)
      // A broken reservation spanning two chunks is one problem, reported once; without a
      // readable id two reports cannot be told apart, so both stay.
      for (const record of parsed.invalid) {
        const key = record.reservationId === null ? null : `${record.reservationId}\u0000${record.issue}`
        if (key !== null && reported.has(key)) continue
        if (key !== null) reported.add(key)
        invalid.push(record)
      }
    }
    return { reservations: [...byId.values()], invalid, requests: budget.requests, chunks: chunks.length }
  }

  /**
   * Every stay of one animal, whatever its dates: how a reservation that stopped coming back for
   * the window is told apart, moved or deleted. Gingr answers these only for the location its API
   * user is logged into.
   */
  async reservationsOfAnimal(animalId: string): Promise<{ records: Reservation[]; invalid: InvalidRecord[] }> {
    return this.#paced({ endpoint: '/reservations_by_animal' }, { id: animalId }, this.#budget(), byReservation(this.#reservation))
  }

  /** Every stay of one owner, whatever its dates, at the API user's location only. */
  async reservationsOfOwner(ownerId: string): Promise<{ records: Reservation[]; invalid: InvalidRecord[] }> {
    return this.#paced({ endpoint: '/reservations_by_owner' }, { id: ownerId }, this.#budget(), byReservation(this.#reservation))
  }

  /** The account's locations (`/get_locations`). */
  async locations(): Promise<{ records: Lookup[]; invalid: InvalidRecord[] }> {
    return this.#paced({ endpoint: '/get_locations' }, {}, this.#budget(), byReservation(Lookup))
  }

  /** The cheapest call Gingr has: what a health check uses to prove the URL and key work. */
  async reservationTypes(): Promise<{ records: ReservationType[]; invalid: InvalidRecord[] }> {
    return this.#request({ endpoint: '/reservation_types' }, {}, this.#budget(), byReservation(ReservationType))
  }

  /** All owners, optionally filtered by column (`params[<column>]=<value>` in Gingr's terms). */
  async owners(params: Record<string, string> = {}): Promise<{ records: Owner[]; invalid: InvalidItem[] }> {
    return this.#list({ endpoint: '/owners' }, whereClauses(params), this.#budget(), recordReader(Owner, 'id', same))
  }

  /** All animals, optionally filtered by column; birthdays are the facility's days (`timeZone`). */
  async animals(params: Record<string, string> = {}): Promise<{ records: Animal[]; invalid: InvalidItem[] }> {
    return this.#list({ endpoint: '/animals' }, whereClauses(params), this.#budget(), recordReader(this.#animal, 'id', same))
  }

  /**
   * The owners created or changed in an inclusive range of the facility's days
   * (`/new_modified_owners`, Gingr's only "changed since"), asked in chunks of at most 30 days like
   * reservations (the limit is not documented for this call: chunks cope with both), merged by id.
   */
  async modifiedOwners(range: DateRange): Promise<{ records: Owner[]; invalid: InvalidItem[]; requests: number }> {
    const budget = this.#budget()
    const byId = new Map<string, Owner>()
    const invalid: InvalidItem[] = []
    for (const chunk of splitIntoChunks(range)) {
      const call = { endpoint: '/new_modified_owners', range: chunk }
      const parsed = await this.#paced(call, { start_date: chunk.from, end_date: chunk.to }, budget, recordReader(Owner, 'id', same))
      for (const owner of parsed.records) byId.set(owner.id, owner)
      invalid.push(...parsed.invalid)
    }
    return { records: [...byId.values()], invalid, requests: budget.requests }
  }

  /** The breed look-up (`/get_breeds`): an animal's `breed_id` is a `value` here. */
  async breeds(): Promise<{ records: Lookup[]; invalid: InvalidItem[] }> {
    return this.#list({ endpoint: '/get_breeds' }, {}, this.#budget(), recordReader(Lookup, 'value', same))
  }

  /** The species look-up (`/get_species`): an animal's `species_id` is a `value` here. */
  async species(): Promise<{ records: Lookup[]; invalid: InvalidItem[] }> {
    return this.#list({ endpoint: '/get_species' }, {}, this.#budget(), recordReader(Lookup, 'value', same))
  }

  /** One owner by id, animal, reservation, phone or email; `null` when Gingr knows none. */
  async owner(query: OwnerQuery): Promise<Owner | null> {
    const call = { endpoint: '/owner' }
    const budget = this.#budget()
    // The tree whole: `/owner` is one small record, and what it is decides how it is read.
    const data = await this.#request(call, definedOnly(query), budget, { each: same, all: same })
    // `/owner` answers with the owner itself rather than a list of them.
    const single = data !== null && !Array.isArray(data) && 'id' in data && typeof data.id !== 'object'
    const { records, invalid } = parseRecords(Owner, single ? [data] : data)
    if (invalid[0]) {
      throw this.#error(call, { kind: 'shape', detail: `an owner that does not validate (${invalid[0].issue})` }, budget.requests)
    }
    return records[0] ?? null
  }

  #budget(): Budget {
    return { deadlineAt: this.#now() + this.#deadlineMs, requests: 0 }
  }

  /**
   * #request, at least paceMs after this client's last answer: real clients keep about 150 ms
   * between calls. The pause runs from the answer's arrival (#request notes it), so validating it
   * counts towards the pause; a call that got no answer at all counts from its end.
   */
  async #paced<T>(call: Call, params: Record<string, string>, budget: Budget, read: Read<T>, method: Method = 'POST'): Promise<T> {
    if (this.#answeredAt > 0) await this.#sleep(Math.min(this.#paceMs - (this.#now() - this.#answeredAt), budget.deadlineAt - this.#now()))
    const before = this.#answeredAt
    try {
      return await this.#request(call, params, budget, read, method, true)
    } finally {
      if (this.#answeredAt === before) this.#answeredAt = this.#now()
    }
  }

  /**
   * A list Gingr documents as GET: asked as POST (the key stays out of the URL) unless this account
   * refused that before; a POST refused with 405 or 404 is asked again by GET, once, and the
   * endpoint is remembered. A GET refused too fails with both answers in its sentence.
   */
  async #list<T>(call: Call, params: Record<string, string>, budget: Budget, read: Read<T>): Promise<T> {
    if (this.#getOnly.has(call.endpoint)) return this.#paced(call, params, budget, read, 'GET')
    try {
      return await this.#paced(call, params, budget, read)
    } catch (error) {
      if (!(error instanceof GingrError && error.kind === 'http' && (error.status === 405 || error.status === 404))) throw error
      this.#getOnly.add(call.endpoint)
      const refused = error.status
      try {
        return await this.#paced(call, params, budget, read, 'GET')
      } catch (retry) {
        if (!(retry instanceof GingrError)) throw retry
        const message = retry.message.replace(/\.$/, ` (asked by GET after POST was refused with HTTP ${refused}).`)
        throw this.#gingrError(message, retry.kind, call, retry.attempts + error.attempts, retry.status)
      }
    }
  }

  /**
   * One request, retried while it makes sense and the budget allows; `read` makes the result of the
   * answer's data (validates it) inside the loop, as an answer one of whose records turns out not
   * to be JSON is retried like any invalid answer. `paced`: notes when each answer arrived.
   */
  async #request<T>(
    call: Call,
    params: Record<string, string>,
    budget: Budget,
    read: Read<T>,
    method: Method = 'POST',
    paced = false,
  ): Promise<T> {
    const form = new URLSearchParams({ key: this.#apiKey, ...params }).toString()
    const headers = { Accept: 'application/json', 'User-Agent': this.#userAgent }
    // A redirect could carry the key (body or URL) to another host: never follow one.
    const init: RequestInit =
      method === 'POST'
        ? {
            method,
            headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
            body: form,
            redirect: 'manual',
          }
        : { method, headers, redirect: 'manual' }
    // The GET's URL holds the key: it goes to fetch only, never into a message (see the header).
    const url = method === 'POST' ? `${this.baseUrl}${call.endpoint}` : `${this.baseUrl}${call.endpoint}?${form}`
    let last: Failure | undefined
    for (let attempt = 1; ; attempt += 1) {
      await this.#pacer?.turn(this.#signal)
      const left = budget.deadlineAt - this.#now()
      if (this.#signal?.aborted) throw this.#aborted(call, attempt - 1)
      if (left <= 0) throw this.#deadline(call, attempt - 1, last)
      const timeoutMs = Math.min(this.#timeoutMs, left)
      budget.requests += 1
      const outcome = await send(url, init, timeoutMs, this.#maxResponseBytes, this.#signal, read.each)
      if (paced) this.#answeredAt = this.#now()
      if (outcome.kind === 'aborted') throw this.#aborted(call, attempt)
      const result = interpret(outcome, this.#now(), (text) => this.#scrub(text))
      if (!('retryable' in result)) return read.all(recordsOf(result, outcome, read.each))
      // Cut short by the deadline rather than by its own timeout: the deadline is the news.
      if (outcome.kind === 'timeout' && timeoutMs < this.#timeoutMs)
        throw this.#deadline(call, attempt, last, 'while waiting for an answer')
      last = result
      if (!result.retryable || attempt >= this.#maxAttempts) throw this.#error(call, result, attempt)
      const wait = result.retryAfterMs ?? this.#backoff(attempt)
      // Gingr's rate limit counts the account's requests, whoever sent them: all of them wait.
      if (result.status === 429) this.#pacer?.holdOff(wait)
      if (wait >= budget.deadlineAt - this.#now()) {
        if (result.retryAfterMs === undefined) throw this.#deadline(call, attempt, last)
        const asked = `${result.detail} asking to retry after ${formatDuration(wait)}, beyond the ${formatDuration(this.#deadlineMs)} deadline`
        throw this.#error(call, { ...result, kind: 'deadline', detail: asked }, attempt)
      }
      await this.#sleep(wait)
    }
  }

  /** Exponential backoff with full jitter, so that retrying clients do not arrive in step. */
  #backoff(attempt: number): number {
    return Math.random() * Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** (attempt - 1))
  }

  /** Waits, but returns at once when the caller aborts (the loop then reports the abort). */
  #sleep(ms: number): Promise<void> {
    const signal = this.#signal
    if (ms <= 0 || signal?.aborted) return Promise.resolve()
    return sleep(ms, signal)
  }

  #error(call: Call, failure: Pick<Failure, 'kind' | 'detail' | 'status'>, attempts: number): GingrError {
    const message = `Gingr ${describe(call)} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${failure.detail}.`
    return this.#gingrError(message, failure.kind, call, attempts, failure.status)
  }

  #deadline(call: Call, attempts: number, last: Failure | undefined, doing = ''): GingrError {
    const ranOut = `the ${formatDuration(this.#deadlineMs)} deadline ran out${doing ? ` ${doing}` : ''}`
    const lastSeen = last ? ` (before that: ${last.detail})` : ''
    const message = `Gingr ${describe(call)} gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${ranOut}${lastSeen}.`
    return this.#gingrError(message, 'deadline', call, attempts, last?.status)
  }

  #aborted(call: Call, attempts: number): GingrError {
    return this.#gingrError(`Gingr ${describe(call)} was aborted (the sync is stopping).`, 'aborted', call, attempts)
  }

  #gingrError(message: string, kind: GingrErrorKind, call: Call, attempts: number, status?: number): GingrError {
    return new GingrError(this.#scrub(message), { kind, endpoint: call.endpoint, range: call.range, status, attempts })
  }

  /** Gingr's own text is echoed in messages, and could in theory echo the key: never let it out. */
  #scrub(text: string): string {
    return this.#apiKey === '' ? text : hideSecret(text, this.#apiKey, '[redacted]')
  }
}

function describe(call: Call): string {
  return call.range ? `${call.endpoint} ${call.range.from}..${call.range.to}` : call.endpoint
}

function whereClauses(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([column, value]) => [`params[${column}]`, value]))
}

function definedOnly(query: OwnerQuery): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined))
}
