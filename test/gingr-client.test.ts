/**
 * The client against the simulator over real HTTP. Timings are small so the suite stays fast;
 * bounds on elapsed time are generous (a loaded 2-core machine), and each one is far below what
 * the bug it catches would take (a hang without a timeout never ends at all). Time arithmetic
 * (Retry-After dates) runs against a fixed or shifted clock instead of waiting whole seconds.
 * Each test has a simulator of its own (its faults and its request log are its alone), so the
 * tests run side by side; the few whose bound leaves only a few hundred milliseconds of slack run
 * at the end, apart from the others' work.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import pkg from '../package.json'
import { type DateRange, splitIntoChunks } from '../src/gingr/chunks.ts'
import { GingrClient, type GingrClientOptions } from '../src/gingr/client.ts'
import { GingrError, type GingrErrorKind } from '../src/gingr/errors.ts'
import { parseRetryAfter } from '../src/gingr/http.ts'
import { type Fault, type SimRequest, type Simulator, startSimulator } from '../src/simulator/index.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const TODAY = '2025-11-17'
/** 37 days: two chunks, as the default sync window. */
const WINDOW: DateRange = { from: '2025-11-10', to: '2025-12-16' }

const API_KEY = 'sk_live_7f3a9c1d5e8b2046'
const simulators: Simulator[] = []

afterAll(async () => {
  await Promise.all(simulators.map((sim) => sim.stop()))
})

/** A simulator of the test's own: the same account (the seed) every time, no fault, no request yet. */
async function simulator(): Promise<Simulator> {
  const made = madeAhead.pop()
  if (made) return made
  const sim = await startSimulator({ seed: 11, today: TODAY, reservations: 300, apiKey: API_KEY })
  simulators.push(sim)
  return sim
}

/** Simulators made before the tests that take them start: making one is 20 ms of this thread. */
const madeAhead: Simulator[] = []

function client(sim: Simulator, options: Partial<GingrClientOptions> = {}): GingrClient {
  return new GingrClient({
    subdomain: 'happytails',
    apiKey: sim.apiKey,
    baseUrl: sim.baseUrl,
    // Generous: only tests of hangs use short timeouts, a hang cannot finish early by accident.
    timeoutMs: 2_000,
    backoffBaseMs: 20,
    backoffMaxMs: 50,
    paceMs: 0,
    deadlineMs: 20_000,
    ...options,
  })
}

/** The failure a call ends with, or a test failure if it succeeded. */
async function failure(call: Promise<unknown>): Promise<GingrError> {
  try {
    await call
  } catch (error) {
    expect(error).toBeInstanceOf(GingrError)
    return error as GingrError
  }
  throw new Error('expected the call to fail')
}

/** What every request must look like, whatever the answer was. */
function expectWellFormed(requests: SimRequest[]): void {
  expect(requests.length).toBeGreaterThan(0)
  for (const request of requests) {
    expect(request.method).toBe('POST')
    expect(request.keyInUrl).toBe(false)
    expect(request.keyValid).toBe(true)
    expect(request.contentType).toBe('application/x-www-form-urlencoded; charset=utf-8')
    expect(request.userAgent).toBe(`gingr-sync/${pkg.version}`)
    expect(Object.values(request.params)).not.toContain(API_KEY)
  }
}

function expectNoKey(error: GingrError): void {
  expect(error.message).not.toContain(API_KEY)
  expect(String(error.stack)).not.toContain(API_KEY)
  // One sentence on one line: what cron mails and the run history keep.
  expect(error.message).not.toContain('\n')
  expect(error.message).toMatch(/^Gingr \/\w+.*\.$/)
}

/** The ids the window must hold: the union of what each chunk matches (overlap repeats merged). */
function expectedIds(sim: Simulator, range: DateRange): string[] {
  const ids = new Set(splitIntoChunks(range).flatMap((chunk) => sim.account.matching(chunk.from, chunk.to).map((r) => r.reservation_id)))
  return [...ids].sort()
}

function gaps(requests: SimRequest[]): number[] {
  return requests.slice(1).map((request, index) => request.at - (requests[index] as SimRequest).at)
}

// The tests that wait longest come first: bun starts at most 20 tests at once, in this order.
describe.concurrent('backoff and Retry-After', () => {
  test('Retry-After in seconds is honoured', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'rate-limit', retryAfter: 1 } })
    await client(sim).fetchReservationWindow(WINDOW)
    expect(sim.requests).toHaveLength(3)
    const [wait] = gaps(sim.requests)
    expect(wait).toBeGreaterThanOrEqual(950)
    expect(wait).toBeLessThan(4_000)
  })

  test('Retry-After beyond the deadline fails at once, saying so', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', fault: { kind: 'rate-limit', retryAfter: 600 } })
    const started = Date.now()
    const error = await failure(client(sim, { deadlineMs: 60_000 }).fetchReservationWindow(WINDOW))
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(error).toMatchObject({ kind: 'deadline', status: 429, attempts: 1 })
    expect(error.message).toMatch(
      /failed after 1 attempt: HTTP 429 \(Too Many Requests: "Too many requests, slow down\."\) asking to retry after 10 min, beyond the 1 min deadline\.$/,
    )
    expect(sim.requests).toHaveLength(1)
  })
})

describe.concurrent('the deadline bounds everything', () => {
  test('a hang ends at the deadline, even with a longer timeout', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', fault: { kind: 'hang' } })
    const started = Date.now()
    const error = await failure(client(sim, { timeoutMs: 30_000, deadlineMs: 300 }).fetchReservationWindow(WINDOW))
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(270)
    expect(elapsed).toBeLessThan(3_000)
    expect(error).toMatchObject({ kind: 'deadline', attempts: 1 })
    expect(error.message).toBe(
      'Gingr /reservations 2025-11-10..2025-12-09 gave up after 1 attempt: the 300 ms deadline ran out while waiting for an answer.',
    )
  })

  test('many Retry-After answers end at the deadline', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', fault: { kind: 'rate-limit', retryAfter: 1 } })
    const started = Date.now()
    // Retry-After's whole seconds: the first 1 s wait fits in 1.9 s even when the first answer is
    // slow (a loaded machine, the cases beside this one), a second one never does.
    const error = await failure(client(sim, { maxAttempts: 100, deadlineMs: 1_900 }).fetchReservationWindow(WINDOW))
    expect(Date.now() - started).toBeLessThan(3_500)
    expect(error.kind).toBe('deadline')
    expect(sim.requests).toHaveLength(2)
  })
})

describe.concurrent('fetchReservationWindow: the happy path', () => {
  test('a 37-day window is two chunks, merged and de-duplicated', async () => {
    const sim = await simulator()
    const window = await client(sim).fetchReservationWindow(WINDOW)
    expect(window.chunks).toBe(2)
    expect(window.requests).toBe(2)
    expect(window.invalid).toEqual([])
    const ids = window.reservations.map((r) => r.reservation_id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(expectedIds(sim, WINDOW))
    expectWellFormed(sim.requests)
    expect(sim.requests.map((r) => [r.endpoint, r.params.start_date, r.params.end_date])).toEqual([
      ['/reservations', '2025-11-10', '2025-12-09'],
      ['/reservations', '2025-12-10', '2025-12-16'],
    ])
  })

  test('a stay spanning both chunks comes once, as validated from the wire', async () => {
    const sim = await simulator()
    const spanning = sim.account
      .matching('2025-12-09', '2025-12-09')
      .find((r) => sim.account.matching('2025-12-10', '2025-12-10').includes(r))
    expect(spanning).toBeDefined()
    const window = await client(sim).fetchReservationWindow(WINDOW)
    const found = window.reservations.filter((r) => r.reservation_id === spanning?.reservation_id)
    expect(found).toHaveLength(1)
    expect(found[0]?.start_date.getTime()).toBe(Date.parse(spanning?.start_date ?? ''))
    expect(found[0]?.start_day).toBe(spanning?.start_date.slice(0, 10))
  })

  test('the pace between chunks is kept', async () => {
    const sim = await simulator()
    await client(sim, { paceMs: 300 }).fetchReservationWindow(WINDOW)
    expect(gaps(sim.requests)[0]).toBeGreaterThanOrEqual(250)
  })
})

describe.concurrent('fetchReservationWindow: data shapes', () => {
  const shapes: Array<[string, Fault]> = [
    ['data as an array', { kind: 'array-data' }],
    ['ids as JSON numbers', { kind: 'numeric-ids' }],
    ['the same reservations twice', { kind: 'duplicate-ids' }],
  ]
  test.each(shapes)('%s reads the same window', async (_name, fault) => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', fault })
    const window = await client(sim).fetchReservationWindow(WINDOW)
    expect(window.invalid).toEqual([])
    expect(window.reservations.map((r) => r.reservation_id).sort()).toEqual(expectedIds(sim, WINDOW))
  })

  test('invalid records are skipped and reported, the rest is kept', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'invalid-records', count: 4 } })
    const window = await client(sim).fetchReservationWindow(WINDOW)
    expect(window.reservations.map((r) => r.reservation_id).sort()).toEqual(expectedIds(sim, WINDOW))
    expect(window.invalid.map((r) => r.reservationId)).toEqual(['99000001', '99000002', '99000003', '99000004'])
    expect(window.invalid.map((r) => r.issue.split(':')[0])).toEqual(['start_date', 'reservation_type', 'animal', 'end_date'])
  })

  test('the same broken reservation in two chunks is reported once', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', fault: { kind: 'invalid-records', count: 2 } })
    const window = await client(sim).fetchReservationWindow(WINDOW)
    expect(window.requests).toBe(2)
    expect(window.invalid.map((r) => r.reservationId)).toEqual(['99000001', '99000002'])
  })

  test('an empty range is [] and gives no reservations', async () => {
    const sim = await simulator()
    const window = await client(sim).fetchReservationWindow({ from: '2031-01-01', to: '2031-01-05' })
    expect(window).toEqual({ reservations: [], invalid: [], requests: 1, chunks: 1 })
  })
})

// [name, fault, times (undefined = always), requests expected, error kind or null for success, message, options]
type FaultCase = [string, Fault, number | undefined, number, GingrErrorKind | null, RegExp | null, Partial<GingrClientOptions>?]

const faultCases: FaultCase[] = [
  ['503 twice, then fine', { kind: 'status', status: 503 }, 2, 4, null, null],
  [
    '502 for ever',
    { kind: 'status', status: 502 },
    undefined,
    4,
    'http',
    /failed after 4 attempts: HTTP 502 \(Bad Gateway: "HTTP 502"\)\.$/,
  ],
  [
    "503 with Gingr's words",
    { kind: 'status', status: 503, body: { success: false, error: 'down for maintenance' } },
    undefined,
    4,
    'http',
    /^Gingr \/reservations 2025-11-10\.\.2025-12-09 failed after 4 attempts: HTTP 503 \(Service Unavailable: "down for maintenance"\)\.$/,
  ],
  ['429 without Retry-After, once', { kind: 'rate-limit' }, 1, 3, null, null],
  ['a body cut half way, once', { kind: 'truncated' }, 1, 3, null, null],
  ['a PHP notice before the JSON', { kind: 'malformed' }, undefined, 4, 'invalid-json', /after 4 attempts: invalid JSON/],
  ['a login page', { kind: 'html' }, undefined, 1, 'html', /after 1 attempt: an HTML page instead of JSON\.$/],
  [
    'an HTML 502 from a proxy',
    { kind: 'status', status: 502, body: '<html><body>Bad gateway</body></html>' },
    undefined,
    4,
    'http',
    /HTTP 502 \(Bad Gateway: an HTML page\)/,
  ],
  [
    'a JSON error with HTTP 200',
    { kind: 'json-error', message: 'Something went wrong.' },
    undefined,
    1,
    'api',
    /after 1 attempt: Gingr answered with an error: "Something went wrong\."\.$/,
  ],
  ['401', { kind: 'status', status: 401 }, undefined, 1, 'http', /HTTP 401 .*: the API key was rejected\.$/],
  ['403', { kind: 'status', status: 403 }, undefined, 1, 'http', /HTTP 403 .*: the API key was rejected\.$/],
  ['404 is not retried', { kind: 'status', status: 404 }, undefined, 1, 'http', /after 1 attempt: HTTP 404/],
  [
    '400 says what Gingr said',
    { kind: 'status', status: 400, body: { error: true, message: 'Bad range' } },
    undefined,
    1,
    'http',
    /HTTP 400 \(Bad Request: "Bad range"\)/,
  ],
  ['a slow answer within the timeout', { kind: 'delay', ms: 200 }, undefined, 2, null, null],
  ['a hang, once', { kind: 'hang' }, 1, 3, null, null, { timeoutMs: 400 }],
  ['a hang for ever', { kind: 'hang' }, undefined, 4, 'timeout', /after 4 attempts: timed out after 100 ms\.$/, { timeoutMs: 100 }],
  [
    'JSON that is not an envelope',
    { kind: 'status', status: 200, body: ['not', 'an', 'envelope'] },
    undefined,
    1,
    'shape',
    /JSON that is not Gingr's envelope/,
  ],
]

/** The hang once: its second attempt must be answered within 400 ms, a bound a neighbour could eat. */
const littleSlack = ([name]: FaultCase) => name === 'a hang, once'

async function expectFaultCase(...[_name, fault, times, requests, kind, message, options = {}]: FaultCase): Promise<void> {
  const sim = await simulator()
  sim.faults.add({ endpoint: '/reservations', fault, ...(times === undefined ? {} : { times }) })
  const started = Date.now()
  const call = client(sim, options).fetchReservationWindow(WINDOW)
  if (kind === null) {
    const window = await call
    expect(window.requests).toBe(requests)
    expect(window.reservations.map((r) => r.reservation_id).sort()).toEqual(expectedIds(sim, WINDOW))
  } else {
    const error = await failure(call)
    expect(error.kind).toBe(kind)
    expect(error.endpoint).toBe('/reservations')
    expect(error.range).toEqual({ from: '2025-11-10', to: '2025-12-09' })
    expect(error.attempts).toBe(requests)
    expect(error.message).toMatch(message ?? /./)
    expectNoKey(error)
  }
  expect(sim.requests).toHaveLength(requests)
  expectWellFormed(sim.requests)
  // 4 timeouts of 100 ms plus short backoffs, or 2 answers delayed 200 ms, is the slowest case here.
  expect(Date.now() - started).toBeLessThan(10_000)
}

describe.concurrent('fetchReservationWindow: faults and retries', () => {
  test.each(faultCases.filter((row) => !littleSlack(row)))('%s', expectFaultCase)

  test('a network error (nobody listening) is retried, then reported', async () => {
    // The simulator's address once nobody listens there any more.
    const gone = await startSimulator({ reservations: 1, apiKey: API_KEY })
    await gone.stop()
    const error = await failure(client(gone).fetchReservationWindow(WINDOW))
    expect(error.kind).toBe('network')
    expect(error.attempts).toBe(4)
    expect(error.message).toMatch(/failed after 4 attempts: a network error/)
    expectNoKey(error)
  })

  test('a wrong key: said so, never retried, never echoed', async () => {
    const sim = await simulator()
    const wrongKey = 'sk_live_wrong_0000000000'
    const error = await failure(client(sim, { apiKey: wrongKey }).fetchReservationWindow(WINDOW))
    expect(error).toMatchObject({ kind: 'http', status: 401, attempts: 1 })
    expect(error.message).toBe(
      'Gingr /reservations 2025-11-10..2025-12-09 failed after 1 attempt: HTTP 401 (Unauthorized: "Invalid API key."): the API key was rejected.',
    )
    expect(error.message).not.toContain(wrongKey)
    expect(sim.requests.map((r) => [r.keyValid, r.keyInUrl])).toEqual([[false, false]])
  })

  const echoes: Array<[string, Fault]> = [
    ['a JSON error with HTTP 200', { kind: 'json-error', message: `key sk_live_7f3a9c1d5e8b2046 is suspended` }],
    ['a 500', { kind: 'status', status: 500, body: { error: `bad key=sk_live_7f3a9c1d5e8b2046` } }],
    ['a 400 in plain text', { kind: 'status', status: 400, body: `key=sk_live_7f3a9c1d5e8b2046 refused` }],
  ]
  test.each(echoes)('Gingr echoing the key in %s: scrubbed', async (_name, fault) => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', fault })
    const error = await failure(client(sim, { maxAttempts: 1 }).fetchReservationWindow(WINDOW))
    expect(error.message).toContain('[redacted]')
    expectNoKey(error)
  })
})

describe.concurrent('parseRetryAfter, against a fixed clock', () => {
  const NOW = Date.parse('2026-11-27T07:00:00.250Z')
  const cases: Array<[string, string | null, number | undefined]> = [
    ['no header', null, undefined],
    ['delta-seconds', '2', 2_000],
    ['delta-seconds, padded', ' 120 ', 120_000],
    ['zero seconds', '0', 0],
    ['an IMF-fixdate 3 s ahead, from a clock 250 ms into its second', 'Fri, 27 Nov 2026 07:00:03 GMT', 2_750],
    ['an IMF-fixdate 10 min ahead', 'Fri, 27 Nov 2026 07:10:00 GMT', 599_750],
    ["RFC 850's form", 'Friday, 27-Nov-26 07:00:03 GMT', 2_750],
    // asctime has no zone and means GMT: read as local time, it would be off by the machine's offset.
    ["asctime's form", 'Fri Nov 27 07:00:03 2026', 2_750],
    ['a date already past: no wait, not a negative one', 'Fri, 27 Nov 2026 06:59:00 GMT', 0],
    // Not a form Retry-After has: ignored, so the client's own backoff applies.
    ['fractional seconds', '1.5', undefined],
    ['negative seconds', '-1', undefined],
    ['words', 'soon', undefined],
    ['an ISO timestamp', '2026-11-27T07:00:03Z', undefined],
    ['empty', '', undefined],
  ]
  test.each(cases)('%s', (_name, header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected)
  })
})

describe.concurrent('the caller aborts', () => {
  const cases: Array<[string, Fault]> = [
    ['during a hang', { kind: 'hang' }],
    ['while waiting for Retry-After', { kind: 'rate-limit', retryAfter: 30 }],
  ]
  test.each(cases)('%s: everything stops at once', async (_name, fault) => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', fault })
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(), 200)
    const error = await failure(
      client(sim, { signal: controller.signal, timeoutMs: 30_000, deadlineMs: 60_000 }).fetchReservationWindow(WINDOW),
    )
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error.kind).toBe('aborted')
    expect(error.message).toBe('Gingr /reservations 2025-11-10..2025-12-09 was aborted (the sync is stopping).')
  })

  test('an already aborted signal sends nothing', async () => {
    const sim = await simulator()
    const error = await failure(client(sim, { signal: AbortSignal.abort() }).fetchReservationWindow(WINDOW))
    expect(error).toMatchObject({ kind: 'aborted', attempts: 0 })
    expect(sim.requests).toHaveLength(0)
  })
})

describe.concurrent('the other endpoints', () => {
  test('reservationTypes: every type, deleted ones included', async () => {
    const sim = await simulator()
    const { records, invalid } = await client(sim).reservationTypes()
    expect(invalid).toEqual([])
    expect(records.map((t) => t.id).sort()).toEqual([...sim.account.reservationTypes.keys()].sort())
    expect(records.some((t) => t.is_deleted)).toBe(true)
    expectWellFormed(sim.requests)
  })

  test('owners: all of them, and a where-clause', async () => {
    const sim = await simulator()
    const all = await client(sim).owners()
    expect(all.records).toHaveLength(sim.account.owners.size)
    const first = all.records[0]
    const byName = await client(sim).owners({ last_name: first?.last_name ?? '' })
    expect(byName.records.length).toBeGreaterThan(0)
    expect(byName.records.every((o) => o.last_name.toLowerCase() === first?.last_name.toLowerCase())).toBe(true)
    expect(sim.requests[1]?.params).toEqual({ 'params[last_name]': first?.last_name ?? '' })
    expectWellFormed(sim.requests)
  })

  test("owners: an unknown column is Gingr's error", async () => {
    const sim = await simulator()
    const error = await failure(client(sim).owners({ shoe_size: '9' }))
    expect(error.kind).toBe('api')
    expect(error.message).toBe(
      `Gingr /owners failed after 1 attempt: Gingr answered with an error: "Unknown column 'shoe_size' in 'where clause'".`,
    )
  })

  test('animals: all of them, with invalid rows reported', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/animals', times: 1, fault: { kind: 'invalid-records', count: 3 } })
    const { records, invalid } = await client(sim).animals()
    expect(records).toHaveLength(sim.account.animals.size)
    expect(invalid).toHaveLength(3)
  })

  const lookups: Array<[string, (sim: Simulator) => Record<string, string>, Fault | null]> = [
    ['by id', (sim) => ({ id: [...sim.account.owners.keys()][5] ?? '' }), null],
    ['by id, ids as numbers', (sim) => ({ id: [...sim.account.owners.keys()][5] ?? '' }), { kind: 'numeric-ids' }],
    ['by reservation', (sim) => ({ reservation_id: [...sim.account.reservations.values()][5]?.reservation_id ?? '' }), null],
  ]
  test.each(lookups)('owner %s', async (_name, query, fault) => {
    const sim = await simulator()
    if (fault) sim.faults.add({ endpoint: '/owner', fault })
    const params = query(sim)
    const owner = await client(sim).owner(params)
    const expected = params.id ?? sim.account.reservations.get(params.reservation_id ?? '')?.owner.id
    expect(owner?.id).toBe(expected)
    expectWellFormed(sim.requests)
  })

  test('owner: nobody found is null', async () => {
    const sim = await simulator()
    expect(await client(sim).owner({ email: 'nobody@nowhere.example' })).toBeNull()
  })
})

describe.concurrent('construction', () => {
  test('the default base URL is the subdomain on gingrapp.com', () => {
    expect(new GingrClient({ subdomain: 'happytails', apiKey: 'k' }).baseUrl).toBe('https://happytails.gingrapp.com/api/v1')
  })
  test('a subdomain that would change the host is refused', () => {
    expect(() => new GingrClient({ subdomain: 'evil.example/x', apiKey: 'k' })).toThrow(RangeError)
  })
  test('the key does not show when the client is inspected', async () => {
    const sim = await simulator()
    const shown = Bun.inspect(client(sim)) + JSON.stringify(client(sim))
    expect(shown).not.toContain(sim.apiKey)
  })
})

// Bounds with a few hundred milliseconds of slack (the HTTP date's: 100 ms), which the work of the
// tests above could eat, all on this one thread: these four run after them all, beside each other
// only, on simulators made before any of them starts its clock. What each does while another
// times is a few milliseconds: an answer of 503, of 429, or one chunk encoded and read.
describe.concurrent('fetchReservationWindow: faults and retries', () => {
  beforeAll(async () => {
    madeAhead.push(...(await Promise.all([1, 2, 3, 4].map(() => simulator()))))
  })

  test.each(faultCases.filter(littleSlack))('%s', expectFaultCase)
})

describe.concurrent('backoff and Retry-After', () => {
  test("Retry-After as an HTTP date is honoured, read against the client's clock", async () => {
    const sim = await simulator()
    // A date 3 s ahead, on a whole second as HTTP dates are; the client's clock is set 300 ms
    // before it. Read against the real clock the wait would be about 3 s, ignored it would be the
    // backoff (at most 50 ms): 300 ms is the date honoured on the clock the client was given.
    const at = Math.ceil(Date.now() / 1000) * 1000 + 3_000
    const shift = at - 300 - Date.now()
    sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'rate-limit', retryAfter: new Date(at).toUTCString() } })
    await client(sim, { now: () => Date.now() + shift }).fetchReservationWindow(WINDOW)
    expect(sim.requests).toHaveLength(3)
    const [wait] = gaps(sim.requests)
    expect(wait).toBeGreaterThanOrEqual(200)
    expect(wait).toBeLessThan(1_500)
  })

  test('backoff pauses between attempts, within its cap', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', times: 7, fault: { kind: 'status', status: 503 } })
    await client(sim, { maxAttempts: 8, backoffBaseMs: 100, backoffMaxMs: 100 }).fetchReservationWindow(WINDOW)
    const waits = gaps(sim.requests.slice(0, 8))
    expect(waits).toHaveLength(7)
    // Full jitter: each wait is in [0, 100 ms]; seven of them summing under 50 ms has a
    // probability near 1e-6, while a client that does not wait sums a few ms.
    expect(waits.reduce((sum, wait) => sum + wait, 0)).toBeGreaterThanOrEqual(50)
    for (const wait of waits) expect(wait).toBeLessThan(100 + 500)
  })
})

describe.concurrent('the deadline bounds everything', () => {
  test('slow chunks share one deadline for the window', async () => {
    const sim = await simulator()
    // Each chunk takes 400 ms: the first fits in the 700 ms deadline (300 ms to spare on a loaded
    // machine), the second cannot.
    sim.faults.add({ endpoint: '/reservations', fault: { kind: 'delay', ms: 400 } })
    const started = Date.now()
    const error = await failure(
      client(sim, { timeoutMs: 5_000, deadlineMs: 700 }).fetchReservationWindow({ from: '2025-11-01', to: '2026-01-29' }),
    )
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(error.kind).toBe('deadline')
    expect(error.range).toEqual({ from: '2025-12-01', to: '2025-12-30' })
    expect(error.message).toBe(
      'Gingr /reservations 2025-12-01..2025-12-30 gave up after 1 attempt: the 700 ms deadline ran out while waiting for an answer.',
    )
  })
})
