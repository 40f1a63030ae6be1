/**
 * The fault matrix, Gingr's side (RELIABILITY.md): the compiled binary against the simulator over
 * real HTTP and a real PostgreSQL. Before each row Gingr gains a reservation, so that a run that
 * succeeds must write it and a run that fails must leave every row as it was (versions included).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { FaultRule, SimRequest } from '../src/simulator/index.ts'
import { syncWindow } from '../src/sync/window.ts'
import { TIMING_VARIABLE } from '../src/timing.ts'
import { type RunResult, TEST_TIMING } from './_binary.ts'
import {
  API_KEY,
  type Bed,
  type Beds,
  defaultWindow,
  differences,
  errorLines,
  gingrSync,
  lastRun,
  snapshot,
  startBeds,
  ZONE,
} from './_faults.ts'
import { differencesFromGingr, storedReservations } from './_truth.ts'

const WRONG_KEY = 'gk-Wrong-Key-Hh21-55Zq'
let beds: Beds

setDefaultTimeout(60_000)

beforeAll(async () => {
  beds = await startBeds('fault-gingr')
})
afterAll(async () => {
  await beds?.stop()
})

/** A bed of the case's own: the faults it adds, the requests it counts and the rows it compares are its alone. */
async function newBed(): Promise<Bed> {
  const bed = await beds.bed()
  bed.secrets.push(WRONG_KEY)
  return bed
}

const reservationRequests = (bed: Bed, since: number) => bed.sim.requests.slice(since).filter((r) => r.endpoint === '/reservations')

interface Row {
  fault: string
  rules: FaultRule[]
  args?: string[]
  env?: Record<string, string | undefined>
  /** The exit code, and what the log says (the failure's sentence, or the success line). */
  code: 0 | 1 | 3
  says: RegExp
  /** A generous bound on the run's length: a hang must not hold the run. */
  withinMs?: number
  /** More proof, from the requests Gingr saw during the run. */
  check?: (requests: SimRequest[], result: RunResult) => void
}

const first = () => defaultWindow().from
const attemptsAtFirstChunk = (requests: SimRequest[]) => requests.filter((r) => r.params.start_date === first()).length

const rows: Row[] = [
  {
    fault: 'HTTP 500 once, then success',
    rules: [{ endpoint: '/reservations', times: 1, fault: { kind: 'status', status: 500 } }],
    code: 0,
    says: /Sync complete/,
    check: (requests) => expect(attemptsAtFirstChunk(requests)).toBe(2),
  },
  {
    fault: '429 with Retry-After: 1, then success',
    rules: [{ endpoint: '/reservations', times: 1, fault: { kind: 'rate-limit', retryAfter: 1 } }],
    code: 0,
    says: /Sync complete/,
    // The tests' backoff after one failure is at most 10 ms (test/_binary.ts): a 1 s gap is the header obeyed.
    check: (requests) => expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(950),
  },
  {
    fault: 'HTTP 503 forever',
    rules: [{ endpoint: '/reservations', fault: { kind: 'status', status: 503 } }],
    code: 1,
    says: /\/reservations \S+ failed after 4 attempts: HTTP 503/,
    check: (requests) => expect(requests).toHaveLength(4),
  },
  {
    fault: 'a hang on every attempt',
    rules: [{ endpoint: '/reservations', fault: { kind: 'hang' } }],
    // The request timeout is the tests' 250 ms (--timeout takes whole seconds; the next row proves
    // the flag): 4 attempts and the tests' backoff, about 1.1 s; room for a slow machine.
    env: { [TIMING_VARIABLE]: JSON.stringify({ ...TEST_TIMING, gingrTimeoutMs: 250 }) },
    code: 1,
    says: /failed after 4 attempts: timed out after 250 ms/,
    withinMs: 30_000,
    check: (requests) => expect(requests).toHaveLength(4),
  },
  {
    fault: 'a hang once, with --timeout 1',
    rules: [{ endpoint: '/reservations', times: 1, fault: { kind: 'hang' } }],
    args: ['--timeout', '1'],
    // The first request is given up after the flag's second, and the retry is answered.
    code: 0,
    says: /Sync complete/,
    withinMs: 30_000,
    check: (requests) => expect(attemptsAtFirstChunk(requests)).toBe(2),
  },
  {
    fault: 'a slow answer (0.5 s) within the timeout (2 s)',
    rules: [{ endpoint: '/reservations', times: 1, fault: { kind: 'delay', ms: 500 } }],
    args: ['--timeout', '2'],
    code: 0,
    says: /Sync complete/,
    check: (requests) => expect(attemptsAtFirstChunk(requests)).toBe(1),
  },
  {
    fault: 'an HTML page (a login page with HTTP 200)',
    rules: [{ endpoint: '/reservations', fault: { kind: 'html' } }],
    code: 1,
    says: /failed after 1 attempt: an HTML page instead of JSON/,
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    fault: 'a JSON error with HTTP 200',
    rules: [{ endpoint: '/reservations', fault: { kind: 'json-error', message: 'Scheduled maintenance, try later.' } }],
    code: 1,
    says: /failed after 1 attempt: Gingr answered with an error: "Scheduled maintenance, try later."/,
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    fault: 'truncated JSON, every time',
    rules: [{ endpoint: '/reservations', fault: { kind: 'truncated' } }],
    code: 1,
    says: /failed after 4 attempts: invalid JSON \(\d+ characters\)/,
    check: (requests) => expect(requests).toHaveLength(4),
  },
  {
    fault: 'truncated JSON once, then whole',
    rules: [{ endpoint: '/reservations', times: 1, fault: { kind: 'truncated' } }],
    code: 0,
    says: /Sync complete/,
    check: (requests) => expect(attemptsAtFirstChunk(requests)).toBe(2),
  },
  {
    fault: 'a PHP notice before the JSON, once',
    rules: [{ endpoint: '/reservations', times: 1, fault: { kind: 'malformed' } }],
    code: 0,
    says: /Sync complete/,
  },
  {
    fault: 'invalid records among valid ones',
    rules: [{ endpoint: '/reservations', times: 1, fault: { kind: 'invalid-records', count: 3 } }],
    code: 3,
    says: /Skipped invalid reservation 99000003: /,
    check: (_requests, result) => expect(result.stderr).toMatch(/, 3 skipped, 0 errors/),
  },
  {
    fault: 'a wrong API key',
    rules: [],
    env: { GINGR_API_KEY: WRONG_KEY },
    code: 1,
    says: /failed after 1 attempt: HTTP 401 \(Unauthorized: "Invalid API key\."\): the API key was rejected/,
    check: (requests) => expect(requests).toHaveLength(1),
  },
  {
    fault: 'Gingr echoes the key in an error',
    rules: [
      { endpoint: '/reservations', fault: { kind: 'status', status: 400, body: { success: false, error: `Unknown key ${API_KEY}` } } },
    ],
    code: 1,
    says: /HTTP 400 \(Bad Request: "Unknown key \[redacted\]"\)/,
  },
  {
    fault: 'Gingr unreachable (a closed port), with --timeout 1',
    rules: [],
    args: ['--timeout', '1'],
    env: { GINGR_BASE_URL: 'http://127.0.0.1:9/api/v1' },
    code: 1,
    says: /failed after 4 attempts: a network error/,
    withinMs: 30_000,
  },
  {
    fault: 'duplicate ids inside one answer',
    rules: [{ endpoint: '/reservations', fault: { kind: 'duplicate-ids' } }],
    code: 0,
    says: /Sync complete/,
  },
  {
    fault: 'ids as JSON numbers',
    rules: [{ endpoint: '/reservations', fault: { kind: 'numeric-ids' } }],
    code: 0,
    says: /Sync complete/,
  },
  {
    fault: 'data as an array instead of an object keyed by id',
    rules: [{ endpoint: '/reservations', fault: { kind: 'array-data' } }],
    code: 0,
    says: /Sync complete/,
  },
]

// Each case on a bed of its own (a simulator's faults hit every request it answers): side by side,
// those with a bound on their length first (a hang: four attempts of 1 s), the others in its wait.
const slowestFirst = [...rows].sort((a, b) => (b.withinMs ?? 0) - (a.withinMs ?? 0))

describe.concurrent('Gingr faults: exit code, sentence, and nothing lost or half-written', () => {
  for (const row of slowestFirst) {
    test(`${row.fault}: exit ${row.code}`, async () => {
      const bed = await newBed()
      bed.sim.account.addReservation()
      const window = defaultWindow()
      const truth = bed.sim.account.matching(window.from, window.to)
      const stored = new Set((await storedReservations(bed.db.sql, bed.tenant)).map((r) => r.externalId))
      const missing = truth.filter((r) => !stored.has(r.reservation_id)).length
      expect(missing).toBeGreaterThan(0)
      const before = await snapshot(bed.db.sql, bed.tenant)
      const since = bed.sim.requests.length

      for (const rule of row.rules) bed.sim.faults.add(rule)
      const started = performance.now()
      let result: RunResult
      try {
        result = await gingrSync(bed, ['--tenant', bed.tenant, ...(row.args ?? [])], row.env)
      } finally {
        bed.sim.faults.clear()
      }
      const elapsed = performance.now() - started

      expect({ code: result.code, log: result.stderr }).toMatchObject({ code: row.code, log: expect.stringMatching(row.says) })
      expect(result.stderr).not.toContain('    at ')
      row.check?.(reservationRequests(bed, since), result)
      if (row.withinMs) expect(elapsed).toBeLessThan(row.withinMs)

      const after = await snapshot(bed.db.sql, bed.tenant)
      const run = await lastRun(bed.db.sql, bed.tenant)
      if (row.code === 1) {
        // One sentence names the failure; the next line says nothing was written, and nothing was.
        expect(errorLines(result)[0]).toMatch(row.says)
        expect(errorLines(result)[1]).toMatch(/Nothing was written for this tenant/)
        expect(after).toEqual(before)
        expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(row.says) })
      } else {
        // Every missing reservation created, no existing row rewritten, and the window equals Gingr.
        expect(result.stderr).toMatch(new RegExp(`Reservations: ${missing} created, 0 updated`))
        const tenantRow = `tenants ${bed.tenant} `
        expect(before.filter((v) => !v.startsWith(tenantRow) && !after.includes(v))).toEqual([])
        expect(await differences(bed)).toEqual([])
        expect(run?.status).toBe('synced')
      }
    })
  }
})

describe.concurrent("Gingr's 30-day limit", () => {
  const days = (from: string, to: string) => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000

  test('a 68-day window is asked for in consecutive chunks of at most 30 days, and synced whole', async () => {
    const bed = await newBed()
    const window = syncWindow(ZONE, 7, 60)
    const since = bed.sim.requests.length
    const result = await gingrSync(bed, ['--tenant', bed.tenant, '--past-days', '7', '--future-days', '60'])
    expect(result.code).toBe(0)
    const chunks = reservationRequests(bed, since).map((r) => ({ from: r.params.start_date!, to: r.params.end_date! }))
    expect(chunks.length).toBe(3)
    expect(chunks[0]!.from).toBe(window.from)
    expect(chunks.at(-1)!.to).toBe(window.to)
    for (const [i, chunk] of chunks.entries()) {
      expect(days(chunk.from, chunk.to)).toBeLessThanOrEqual(29)
      if (i > 0) expect(days(chunks[i - 1]!.to, chunk.from)).toBe(1)
    }
    expect(await differencesFromGingr(bed.db.sql, bed.tenant, bed.sim.account.matching(window.from, window.to))).toEqual([])
  })

  test("the simulator refuses 31 days; were that answer to come back, the run fails with Gingr's sentence and writes nothing", async () => {
    const bed = await newBed()
    const form = new URLSearchParams({ key: bed.sim.apiKey, start_date: '2025-01-01', end_date: '2025-02-01' })
    const refused = await fetch(`${bed.sim.baseUrl}/reservations`, { method: 'POST', body: form })
    const body: unknown = await refused.json()
    expect(refused.status).toBe(200)
    expect(body).toEqual({ success: false, error: true, message: 'The date range cannot span more than 30 days.' })

    bed.sim.account.addReservation()
    const before = await snapshot(bed.db.sql, bed.tenant)
    bed.sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'status', status: 200, body } })
    const result = await gingrSync(bed, ['--tenant', bed.tenant])
    bed.sim.faults.clear()
    expect(result.code).toBe(1)
    expect(errorLines(result)[0]).toMatch(
      /failed after 1 attempt: Gingr answered with an error: "The date range cannot span more than 30 days\."\.$/,
    )
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
  })
})
