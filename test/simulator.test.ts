/**
 * The simulator over real HTTP: the key check, the range rules in a zone that is not UTC (across
 * DST changes), the data shapes, determinism, every fault, mutations and the control API.
 * Time bounds only guard against hangs and are generous (a loaded 2-core machine).
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type Fault, facilityTimestamp, type Simulator, startSimulator, type WireReservation } from '../src/simulator/index.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const TODAY = '2025-11-17'
const ZONE = 'America/Denver'

type Json = Record<string, unknown>

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, today: TODAY, timeZone: ZONE })
})
afterAll(async () => {
  await sim.stop()
})
afterEach(() => {
  sim.faults.clear()
})

function call(s: Simulator, endpoint: string, form: Record<string, string>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${s.baseUrl}${endpoint}`, { method: 'POST', body: new URLSearchParams(form), ...init })
}

function reservations(s: Simulator, from: string, to: string, extra: Record<string, string> = {}): Promise<Response> {
  return call(s, '/reservations', { key: s.apiKey, start_date: from, end_date: to, ...extra })
}

async function data(response: Response): Promise<unknown> {
  const body = (await response.json()) as Json
  expect(body.success).toBe(true)
  return body.data
}

/** `data` keyed by id, as a list; `[]` counts as none. */
async function records(response: Response): Promise<WireReservation[]> {
  const found = await data(response)
  if (Array.isArray(found)) {
    expect(found).toEqual([])
    return []
  }
  return Object.values(found as Record<string, WireReservation>)
}

const ids = (list: readonly { reservation_id: string }[]): string[] => list.map((r) => r.reservation_id).sort()

describe('the key', () => {
  const cases: { name: string; query?: string; form?: Record<string, string>; json?: boolean; status: number; keyInUrl: boolean }[] = [
    { name: 'in the form body', form: { key: 'sim-key-3' }, status: 200, keyInUrl: false },
    { name: 'in the query string', query: 'sim-key-3', status: 200, keyInUrl: true },
    { name: 'in both places', query: 'sim-key-3', form: { key: 'sim-key-3' }, status: 200, keyInUrl: true },
    { name: 'missing', status: 401, keyInUrl: false },
    { name: 'wrong', form: { key: 'sim-key-4' }, status: 401, keyInUrl: false },
    { name: 'right in the body, wrong in the query', query: 'nope', form: { key: 'sim-key-3' }, status: 401, keyInUrl: true },
    { name: 'in a JSON body, which PHP ignores', form: { key: 'sim-key-3' }, json: true, status: 401, keyInUrl: false },
  ]
  test.each(cases)('$name → $status', async ({ query, form, json, status, keyInUrl }) => {
    const fields = { start_date: TODAY, end_date: TODAY, ...form }
    const url = `${sim.baseUrl}/reservations${query === undefined ? '' : `?key=${query}`}`
    const response = await fetch(
      url,
      json
        ? { method: 'POST', body: JSON.stringify(fields), headers: { 'content-type': 'application/json' } }
        : { method: 'POST', body: new URLSearchParams(fields) },
    )
    expect(response.status).toBe(status)
    const body = (await response.json()) as Json
    expect(body.success).toBe(status === 200)
    if (status === 401) expect(body.error).toBe('Invalid API key.')
    const seen = sim.requests.at(-1)
    expect(seen).toMatchObject({ endpoint: '/reservations', method: 'POST', keyValid: status === 200, keyInUrl, status })
    expect(Object.keys(seen?.params ?? {})).not.toContain('key')
  })

  test('every endpoint checks it', async () => {
    for (const endpoint of ['/owners', '/animals', '/owner', '/reservation_types', '/recently_cancelled_reservations']) {
      const response = await call(sim, endpoint, { key: 'wrong', id: '455', start_date: TODAY, end_date: TODAY })
      expect(response.status).toBe(401)
    }
  })

  test('unknown endpoints and wrong methods say so before the key', async () => {
    expect((await call(sim, '/nope', {})).status).toBe(404)
    expect((await fetch(`${sim.baseUrl}/reservations?key=${sim.apiKey}`)).status).toBe(405)
  })
})

describe('range rules', () => {
  const cases: { from: string; to: string; ok: boolean; why: string }[] = [
    { from: '2024-01-01', to: '2024-01-31', ok: true, why: '30 days, the documented example' },
    { from: '2024-01-01', to: '2024-02-01', ok: false, why: '31 days' },
    { from: '2025-03-01', to: '2025-03-31', ok: true, why: '30 days across a DST change' },
    { from: '2025-11-17', to: '2025-11-17', ok: true, why: 'one day' },
    { from: '2025-11-17', to: '2025-11-16', ok: false, why: 'end before start' },
    { from: '2025-02-30', to: '2025-03-02', ok: false, why: 'not a calendar day' },
    { from: '11/17/2025', to: '2025-11-18', ok: false, why: 'not YYYY-MM-DD' },
    { from: '', to: '2025-11-18', ok: false, why: 'missing start' },
  ]
  test.each(cases)('$from..$to: $why', async ({ from, to, ok }) => {
    const response = await reservations(sim, from, to)
    // The "JSON error with HTTP 200" quirk: the status says nothing.
    expect(response.status).toBe(200)
    const body = (await response.json()) as Json
    expect(body.success).toBe(ok)
    if (!ok) expect(body).toMatchObject({ error: true, message: expect.any(String) })
  })

  test('recently cancelled reservations follow the same rules', async () => {
    const response = await call(sim, '/recently_cancelled_reservations', {
      key: sim.apiKey,
      start_date: '2024-01-01',
      end_date: '2024-02-01',
    })
    expect(((await response.json()) as Json).success).toBe(false)
  })
})

describe('overlap vs start, at the edges of a range in Denver across DST changes', () => {
  const sims: Record<'overlap' | 'start', Simulator | undefined> = { overlap: undefined, start: undefined }
  /** name → [start, end] as instants. */
  const stays: Record<string, [string, string]> = {
    // 2025-03-09 is a 23-hour day: [07:00Z, 06:00Z next day).
    eveBeforeIntoDay: ['2025-03-09T06:30:00Z', '2025-03-09T16:00:00Z'],
    atMidnight: ['2025-03-09T07:00:00Z', '2025-03-09T08:00:00Z'],
    lastMinute: ['2025-03-10T05:59:00Z', '2025-03-10T15:00:00Z'],
    nextMidnight: ['2025-03-10T06:00:00Z', '2025-03-10T09:00:00Z'],
    endsAtMidnight: ['2025-03-08T15:00:00Z', '2025-03-09T07:00:00Z'],
    utcDayButLocalEve: ['2025-03-09T05:00:00Z', '2025-03-09T06:00:00Z'],
    eveningClass: ['2025-03-10T01:00:00Z', '2025-03-10T02:00:00Z'],
    // 2025-11-02 is a 25-hour day: [06:00Z, 07:00Z next day).
    fallLastHour: ['2025-11-03T06:30:00Z', '2025-11-03T08:00:00Z'],
    fallNextMidnight: ['2025-11-03T07:00:00Z', '2025-11-03T09:00:00Z'],
  }
  const idOf: Record<string, string> = {}

  beforeAll(async () => {
    for (const match of ['overlap', 'start'] as const) {
      const s = await startSimulator({ match, owners: 1, animals: 1, reservations: 0, timeZone: ZONE, today: '2025-03-09' })
      for (const [name, [start, end]] of Object.entries(stays)) {
        idOf[name] = s.account.addReservation({ start: new Date(start), end: new Date(end) }).reservation_id
      }
      sims[match] = s
    }
  })
  afterAll(async () => {
    await Promise.all(Object.values(sims).map((s) => s?.stop()))
  })

  const cases: { from: string; to: string; overlap: string[]; start: string[] }[] = [
    {
      from: '2025-03-09',
      to: '2025-03-09',
      overlap: ['eveBeforeIntoDay', 'atMidnight', 'lastMinute', 'eveningClass'],
      start: ['atMidnight', 'lastMinute', 'eveningClass'],
    },
    {
      from: '2025-03-08',
      to: '2025-03-08',
      overlap: ['eveBeforeIntoDay', 'endsAtMidnight', 'utcDayButLocalEve'],
      start: ['eveBeforeIntoDay', 'endsAtMidnight', 'utcDayButLocalEve'],
    },
    { from: '2025-03-10', to: '2025-03-10', overlap: ['lastMinute', 'nextMidnight'], start: ['nextMidnight'] },
    { from: '2025-11-02', to: '2025-11-02', overlap: ['fallLastHour'], start: ['fallLastHour'] },
    { from: '2025-11-03', to: '2025-11-03', overlap: ['fallLastHour', 'fallNextMidnight'], start: ['fallNextMidnight'] },
  ]
  for (const match of ['overlap', 'start'] as const) {
    test.each(cases)(`${match}: $from..$to`, async (c) => {
      const s = sims[match]
      if (s === undefined) throw new Error('simulator not started')
      const found = ids(await records(await reservations(s, c.from, c.to)))
      expect(found).toEqual(c[match].map((name) => idOf[name] ?? '?').sort())
      expect(ids(s.account.matching(c.from, c.to))).toEqual(found)
    })
  }
})

describe('data', () => {
  test('is an object keyed by reservation id', async () => {
    const found = (await data(await reservations(sim, '2025-11-10', '2025-12-09'))) as Record<string, WireReservation>
    const keys = Object.keys(found)
    expect(keys.length).toBeGreaterThan(20)
    for (const key of keys) expect(found[key]?.reservation_id).toBe(key)
    expect(keys.sort()).toEqual(ids(sim.account.matching('2025-11-10', '2025-12-09')))
  })

  test('is [] when nothing matches', async () => {
    const text = await (await reservations(sim, '2020-01-01', '2020-01-31')).text()
    expect(text).toBe('{"success":true,"error":false,"data":[]}')
  })

  test('cancelled stays are still returned, and checked_in=true ignores the dates', async () => {
    const all = await records(await reservations(sim, '2025-10-28', '2025-11-26'))
    expect(all.some((r) => r.cancelled_date !== null)).toBe(true)
    const inHouse = await records(await reservations(sim, '2020-01-01', '2020-01-01', { checked_in: 'true' }))
    expect(inHouse.length).toBeGreaterThan(0)
    for (const r of inHouse) expect([r.check_in_date !== null, r.check_out_date, r.cancelled_date]).toEqual([true, null, null])
  })

  test('another location has no reservations; location 1 and null are all of them', async () => {
    const all = ids(await records(await reservations(sim, '2025-11-10', '2025-11-20')))
    expect(ids(await records(await reservations(sim, '2025-11-10', '2025-11-20', { location_id: '1' })))).toEqual(all)
    expect(ids(await records(await reservations(sim, '2025-11-10', '2025-11-20', { location_id: 'null' })))).toEqual(all)
    expect(await records(await reservations(sim, '2025-11-10', '2025-11-20', { location_id: '2' }))).toEqual([])
  })
})

describe('generated accounts', () => {
  test('are a pure function of the options', async () => {
    const [a, b, c] = await Promise.all([5, 5, 6].map((seed) => startSimulator({ seed, today: TODAY, apiKey: 'k' })))
    try {
      const answer = async (s: Simulator | undefined, endpoint: string): Promise<string> =>
        s === undefined ? '' : (await call(s, endpoint, { key: 'k', start_date: '2025-10-28', end_date: '2025-11-26' })).text()
      for (const endpoint of ['/reservations', '/owners', '/animals']) {
        expect(await answer(a, endpoint)).toBe(await answer(b, endpoint))
        expect(await answer(a, endpoint)).not.toBe(await answer(c, endpoint))
      }
    } finally {
      await Promise.all([a, b, c].map((s) => s?.stop()))
    }
  })

  test('show every status, the awkward owners and the awkward notes', () => {
    const all = [...sim.account.reservations.values()]
    const statuses = new Set(
      all.map((r) =>
        r.cancelled_date
          ? 'cancelled'
          : r.check_out_date
            ? 'out'
            : r.check_in_date
              ? 'in'
              : r.confirmed_date
                ? 'confirmed'
                : r.wait_list_date
                  ? 'wait-listed'
                  : 'pending',
      ),
    )
    expect([...statuses].sort()).toEqual(['cancelled', 'confirmed', 'in', 'out', 'pending', 'wait-listed'])
    const owners = [...sim.account.owners.values()]
    expect(owners.some((o) => o.email === null)).toBe(true)
    expect(owners.some((o) => o.email === '')).toBe(true)
    const emails = owners.map((o) => o.email).filter((e) => e)
    expect(new Set(emails).size).toBeLessThan(emails.length)
    const notes = all.map((r) => r.notes.reservation_notes ?? '')
    expect(notes.some((n) => n.length > 20_000)).toBe(true)
    expect(notes.some((n) => /<\w+>/.test(n))).toBe(true)
    expect(all.some((r) => r.reservation_type.type === 'Boarding | Indoor Suite')).toBe(true)
    expect(all.some((r) => Array.isArray(r.transaction)) && all.some((r) => !Array.isArray(r.transaction))).toBe(true)
  })

  test('put overnight drop-offs in the morning and pick-ups in the afternoon, local time', () => {
    const boarding = [...sim.account.reservations.values()].filter((r) => r.reservation_type.type.startsWith('Boarding'))
    expect(boarding.length).toBeGreaterThan(10)
    for (const r of boarding) {
      expect(Number(r.start_date.slice(11, 13))).toBeWithin(7, 11)
      expect(Number(r.end_date.slice(11, 13))).toBeWithin(11, 18)
      expect(r.end_date.slice(0, 10) > r.start_date.slice(0, 10)).toBe(true)
    }
  })
})

describe('timestamps', () => {
  const cases: { instant: string; zone: string; expected: string }[] = [
    { instant: '2025-01-15T20:00:00Z', zone: ZONE, expected: '2025-01-15T13:00:00-07:00' },
    { instant: '2025-07-15T20:00:00Z', zone: ZONE, expected: '2025-07-15T14:00:00-06:00' },
    { instant: '2025-03-09T08:59:59Z', zone: ZONE, expected: '2025-03-09T01:59:59-07:00' },
    { instant: '2025-03-09T09:00:00Z', zone: ZONE, expected: '2025-03-09T03:00:00-06:00' },
    { instant: '2025-11-02T07:30:00Z', zone: ZONE, expected: '2025-11-02T01:30:00-06:00' },
    { instant: '2025-11-02T08:30:00Z', zone: ZONE, expected: '2025-11-02T01:30:00-07:00' },
    { instant: '2025-11-17T20:00:00.999Z', zone: 'UTC', expected: '2025-11-17T20:00:00+00:00' },
    { instant: '2025-11-17T20:00:00Z', zone: 'Asia/Kathmandu', expected: '2025-11-18T01:45:00+05:45' },
    { instant: '2025-11-17T20:00:00Z', zone: 'America/St_Johns', expected: '2025-11-17T16:30:00-03:30' },
  ]
  test.each(cases)('$instant in $zone is $expected', ({ instant, zone, expected }) => {
    expect(facilityTimestamp(new Date(instant), zone)).toBe(expected)
  })

  test('generated stays carry the offset of their own instant, on both sides of a DST change', async () => {
    const s = await startSimulator({ seed: 9, today: '2025-11-02', timeZone: ZONE, reservations: 200 })
    try {
      const found = await records(await reservations(s, '2025-10-20', '2025-11-15'))
      const stamps = found
        .flatMap((r) => [r.start_date, r.end_date, r.created_date, r.check_in_date, r.check_out_date])
        .filter((t): t is string => t !== null)
      for (const stamp of stamps) expect(facilityTimestamp(new Date(stamp), ZONE)).toBe(stamp)
      expect(stamps.some((t) => t.endsWith('-06:00'))).toBe(true)
      expect(stamps.some((t) => t.endsWith('-07:00'))).toBe(true)
    } finally {
      await s.stop()
    }
  })
})

describe('faults', () => {
  const range = { start_date: '2025-11-10', end_date: '2025-12-09' }
  let normal: { text: string; ids: string[] }

  beforeAll(async () => {
    const text = await (await call(sim, '/reservations', { key: sim.apiKey, ...range })).text()
    normal = { text, ids: Object.keys((JSON.parse(text) as { data: Json }).data).sort() }
  })

  function ask(): Promise<Response> {
    return call(sim, '/reservations', { key: sim.apiKey, ...range })
  }

  function parsed(text: string): { ok: true; value: { success: boolean; data: unknown; [k: string]: unknown } } | { ok: false } {
    try {
      return { ok: true, value: JSON.parse(text) }
    } catch {
      return { ok: false }
    }
  }

  const idsOf = (list: unknown[]): string[] => list.map((r) => String((r as Json).reservation_id))

  const cases: { fault: Fault; check: (response: Response, text: string) => void }[] = [
    {
      fault: { kind: 'status', status: 502 },
      check: (r, t) => {
        expect(r.status).toBe(502)
        expect(parsed(t)).toMatchObject({ ok: true, value: { success: false, error: 'HTTP 502' } })
      },
    },
    {
      fault: { kind: 'status', status: 500, body: { error: 'Database error' } },
      check: (r, t) => {
        expect(r.status).toBe(500)
        expect(t).toBe('{"error":"Database error"}')
      },
    },
    {
      fault: { kind: 'status', status: 503, body: '<html>Service Unavailable</html>' },
      check: (r, t) => {
        expect([r.status, r.headers.get('content-type'), t]).toEqual([503, 'text/html; charset=utf-8', '<html>Service Unavailable</html>'])
      },
    },
    {
      fault: { kind: 'rate-limit', retryAfter: 7 },
      check: (r) => {
        expect([r.status, r.headers.get('retry-after')]).toEqual([429, '7'])
      },
    },
    {
      fault: { kind: 'rate-limit', retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT' },
      check: (r) => {
        expect([r.status, r.headers.get('retry-after')]).toEqual([429, 'Wed, 21 Oct 2026 07:28:00 GMT'])
      },
    },
    {
      fault: { kind: 'rate-limit' },
      check: (r) => {
        expect([r.status, r.headers.get('retry-after')]).toEqual([429, null])
      },
    },
    {
      fault: { kind: 'html' },
      check: (r, t) => {
        expect([r.status, r.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8'])
        expect(t).toContain('<form')
      },
    },
    {
      fault: { kind: 'json-error', message: 'Session expired' },
      check: (r, t) => {
        expect(r.status).toBe(200)
        expect(JSON.parse(t)).toEqual({ success: false, error: true, message: 'Session expired' })
      },
    },
    {
      fault: { kind: 'truncated' },
      check: (r, t) => {
        expect(r.status).toBe(200)
        expect(parsed(t).ok).toBe(false)
        expect(normal.text.startsWith(t.replace(/\uFFFD$/, ''))).toBe(true)
        expect(t.length).toBeLessThan(normal.text.length * 0.6)
      },
    },
    {
      fault: { kind: 'malformed' },
      check: (r, t) => {
        expect([r.status, r.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8'])
        expect(parsed(t).ok).toBe(false)
        expect(t.endsWith(normal.text)).toBe(true)
      },
    },
    {
      fault: { kind: 'invalid-records', count: 3 },
      check: (_r, t) => {
        const data = (JSON.parse(t) as { data: Json }).data
        expect(Object.keys(data).sort()).toEqual([...normal.ids, '99000001', '99000002', '99000003'].sort())
        expect((data['99000001'] as Json).start_date).toBe('0000-00-00 00:00:00')
      },
    },
    {
      fault: { kind: 'array-data' },
      check: (_r, t) => {
        const data = (JSON.parse(t) as { data: unknown[] }).data
        expect(Array.isArray(data)).toBe(true)
        expect(idsOf(data).sort()).toEqual(normal.ids)
      },
    },
    {
      fault: { kind: 'numeric-ids' },
      check: (_r, t) => {
        const first = Object.values((JSON.parse(t) as { data: Record<string, Json> }).data)[0] ?? {}
        expect(typeof first.reservation_id).toBe('number')
        expect(typeof (first.owner as Json).id).toBe('number')
        expect(typeof (first.reservation_type as Json).id).toBe('number')
        expect(typeof (first.animal as Json).name).toBe('string')
      },
    },
    {
      fault: { kind: 'duplicate-ids' },
      check: (_r, t) => {
        const data = (JSON.parse(t) as { data: unknown[] }).data
        expect(data.length).toBeGreaterThan(normal.ids.length)
        expect([...new Set(idsOf(data))].sort()).toEqual(normal.ids)
      },
    },
  ]
  test.each(cases.map((c) => ({ ...c, name: JSON.stringify(c.fault) })))('$name', async ({ fault, check }) => {
    sim.faults.add({ endpoint: '/reservations', times: 1, fault })
    const response = await ask()
    check(response, await response.text())
    expect(sim.requests.at(-1)?.status).toBe(response.status)
    // Spent: the next answer is the normal one.
    expect(await (await ask()).text()).toBe(normal.text)
  })

  test('a delay answers normally, later', async () => {
    sim.faults.add({ times: 1, fault: { kind: 'delay', ms: 300 } })
    const started = performance.now()
    expect(await (await ask()).text()).toBe(normal.text)
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
  })

  test('a hang never answers, and ends when the client gives up', async () => {
    sim.faults.add({ times: 1, fault: { kind: 'hang' } })
    const outcome = await call(sim, '/reservations', { key: sim.apiKey, ...range }, { signal: AbortSignal.timeout(300) }).then(
      () => 'answered',
      (error: Error) => error.name,
    )
    expect(['TimeoutError', 'AbortError']).toContain(outcome)
    expect(sim.requests.at(-1)?.status).toBe(0)
    expect(await (await ask()).text()).toBe(normal.text)
  })

  test('stop() ends a hang: the connection is reset', async () => {
    const own = await startSimulator({ reservations: 5 })
    own.faults.add({ fault: { kind: 'hang' } })
    const pending = call(own, '/reservations', { key: own.apiKey, start_date: TODAY, end_date: TODAY }).then(
      () => 'answered',
      () => 'reset',
    )
    while (own.requests.length === 0) await Bun.sleep(10)
    const stopped = own.stop().then(() => 'stopped')
    const guard = Bun.sleep(10_000).then(() => 'still hanging')
    expect(await Promise.race([Promise.all([pending, stopped]), guard])).toEqual(['reset', 'stopped'])
  })

  test('times: the rule applies that many times, then the normal answer is back', async () => {
    sim.faults.add({ endpoint: '/reservations', times: 2, fault: { kind: 'status', status: 502 } })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await ask()).status)
    expect(statuses).toEqual([502, 502, 200, 200])
  })

  test('when: sees the endpoint, the params and the per-endpoint request number', async () => {
    const own = await startSimulator({ reservations: 5 })
    try {
      const seen: string[] = []
      own.faults.add({
        when: ({ endpoint, params, n }) => {
          seen.push(`${endpoint}#${n}:${params.start_date ?? '-'}`)
          return n % 2 === 0
        },
        fault: { kind: 'json-error' },
      })
      const results = []
      for (const endpoint of ['/reservations', '/reservations', '/owners', '/reservations', '/reservations']) {
        const body = (await (await call(own, endpoint, { key: own.apiKey, start_date: TODAY, end_date: TODAY })).json()) as Json
        results.push(body.success)
      }
      expect(results).toEqual([true, false, true, true, false])
      expect(seen).toEqual([
        `/reservations#1:${TODAY}`,
        `/reservations#2:${TODAY}`,
        `/owners#1:${TODAY}`,
        `/reservations#3:${TODAY}`,
        `/reservations#4:${TODAY}`,
      ])
    } finally {
      await own.stop()
    }
  })

  test('a rule for one endpoint leaves the others alone; the first live rule wins', async () => {
    sim.faults.add({ endpoint: '/owners', fault: { kind: 'status', status: 500 } })
    sim.faults.add({ times: 1, fault: { kind: 'status', status: 503 } })
    sim.faults.add({ fault: { kind: 'status', status: 504 } })
    const owners = await fetch(`${sim.baseUrl}/owners?key=${sim.apiKey}`)
    expect(owners.status).toBe(500)
    expect([(await ask()).status, (await ask()).status]).toEqual([503, 504])
    sim.faults.clear()
    expect((await ask()).status).toBe(200)
  })

  test('replacing faults answer even a bad key; data faults leave errors alone', async () => {
    sim.faults.add({ times: 1, fault: { kind: 'rate-limit' } })
    expect((await call(sim, '/reservations', { key: 'bad', ...range })).status).toBe(429)
    sim.faults.add({ times: 1, fault: { kind: 'array-data' } })
    expect((await call(sim, '/reservations', { key: 'bad', ...range })).status).toBe(401)
  })

  test('data faults apply to lists too', async () => {
    sim.faults.add({ endpoint: '/owners', times: 1, fault: { kind: 'numeric-ids' } })
    const owners = (await data(await fetch(`${sim.baseUrl}/owners?key=${sim.apiKey}`))) as Json[]
    expect(typeof owners[0]?.id).toBe('number')
    sim.faults.add({ endpoint: '/animals', times: 1, fault: { kind: 'invalid-records' } })
    const animals = (await data(await fetch(`${sim.baseUrl}/animals?key=${sim.apiKey}`))) as unknown[]
    expect(animals.length).toBe(sim.account.animals.size + 2)
  })
})

describe('mutations show in the next answer', () => {
  let own: Simulator
  beforeAll(async () => {
    own = await startSimulator({ seed: 4, today: TODAY, reservations: 60 })
  })
  afterAll(async () => {
    await own.stop()
  })

  const window = async (from = '2025-11-10', to = '2025-12-09'): Promise<Map<string, WireReservation>> =>
    new Map((await records(await reservations(own, from, to))).map((r) => [r.reservation_id, r]))

  test('add, change, move, check in, check out, cancel, delete', async () => {
    const added = own.account.addReservation({
      start: new Date('2025-11-20T15:00:00Z'),
      end: new Date('2025-11-22T18:00:00Z'),
      notes: 'new',
    })
    const id = added.reservation_id
    expect((await window()).get(id)).toMatchObject({ start_date: '2025-11-20T08:00:00-07:00', notes: { reservation_notes: 'new' } })
    expect(added.confirmed_date).not.toBeNull()

    own.account.changeReservation(id, { notes: { reservation_notes: '<b>changed</b>', animal_notes: null, owner_notes: null } })
    expect((await window()).get(id)?.notes.reservation_notes).toBe('<b>changed</b>')

    own.account.moveReservation(id, new Date('2026-01-05T15:00:00Z'), new Date('2026-01-06T18:00:00Z'))
    expect((await window()).has(id)).toBe(false)
    expect((await window('2026-01-01', '2026-01-10')).get(id)?.start_date).toBe('2026-01-05T08:00:00-07:00')

    const inHouse = async (): Promise<string[]> => ids(await records(await reservations(own, TODAY, TODAY, { checked_in: '1' })))
    own.account.checkIn(id, new Date('2026-01-05T15:10:00Z'))
    expect(await inHouse()).toContain(id)
    own.account.checkOut(id)
    expect(await inHouse()).not.toContain(id)

    own.account.cancelReservation(id, new Date('2025-12-01T12:00:00Z'))
    expect((await window('2026-01-01', '2026-01-10')).get(id)?.cancelled_date).toBe('2025-12-01T05:00:00-07:00')
    const cancelled = await call(own, '/recently_cancelled_reservations', {
      key: own.apiKey,
      start_date: '2025-12-01',
      end_date: '2025-12-01',
    })
    expect(ids(await records(cancelled))).toContain(id)

    own.account.deleteReservation(id)
    expect((await window('2026-01-01', '2026-01-10')).has(id)).toBe(false)
  })

  test('records are frozen: an edit in place throws instead of being silently ignored', () => {
    const first = own.account.reservations.values().next().value
    if (first === undefined) throw new Error('no reservations')
    expect(() => {
      ;(first.notes as { reservation_notes: string | null }).reservation_notes = 'x'
    }).toThrow(TypeError)
  })

  test('unknown ids are refused', () => {
    expect(() => own.account.cancelReservation('1')).toThrow(RangeError)
    expect(() => own.account.deleteReservation('1')).toThrow(RangeError)
  })
})

describe('owners, animals, reservation types', () => {
  const get = async (endpoint: string, query: Record<string, string> = {}): Promise<unknown> =>
    data(await fetch(`${sim.baseUrl}${endpoint}?${new URLSearchParams({ key: sim.apiKey, ...query })}`))

  test('owners with a shared email are all found by a where-clause; /owner returns the lowest id', async () => {
    const owners = [...sim.account.owners.values()]
    const shared = owners[0]?.email ?? ''
    expect(owners[1]?.email).toBe(shared)
    const found = (await get('/owners', { 'params[email]': shared.toUpperCase() })) as Json[]
    expect(found.map((o) => o.id)).toEqual(owners.filter((o) => o.email === shared).map((o) => o.id))
    expect(await get('/owner', { email: shared })).toMatchObject({ id: owners[0]?.id })
  })

  test('/owner by each key, and [] for nobody', async () => {
    const reservation = [...sim.account.reservations.values()][0]
    const animal = [...sim.account.animals.values()][0]
    const withPhone = [...sim.account.owners.values()].find((o) => (o.cell_phone ?? '').length >= 10)
    expect(await get('/owner', { reservation_id: reservation?.reservation_id ?? '' })).toMatchObject({ id: reservation?.owner.id })
    expect(await get('/owner', { animal_id: animal?.id ?? '' })).toMatchObject({ id: animal?.owner_id })
    expect(await get('/owner', { phone: withPhone?.cell_phone ?? '' })).toMatchObject({ id: withPhone?.id })
    expect(await get('/owner', { id: '1' })).toEqual([])
    const none = (await (await fetch(`${sim.baseUrl}/owner?key=${sim.apiKey}`)).json()) as Json
    expect(none).toMatchObject({ success: false, error: true })
  })

  test('an unknown column is a JSON error with HTTP 200', async () => {
    const response = await fetch(`${sim.baseUrl}/animals?key=${sim.apiKey}&params[colour]=Black`)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ success: false, error: true })
  })

  test('reservation types: all, by id, active only', async () => {
    const all = (await get('/reservation_types')) as Json[]
    expect(all.length).toBe(10)
    expect(all.some((t) => t.is_deleted === '1')).toBe(true)
    expect(await get('/reservation_types', { id: '3' })).toEqual([expect.objectContaining({ type: 'Boarding | Indoor Suite' })])
    const active = (await get('/reservation_types', { active_only: 'true' })) as Json[]
    expect(active.every((t) => t.status === '1' && t.is_deleted === '0')).toBe(true)
    expect(active.length).toBeLessThan(all.length)
  })
})

describe('latency', () => {
  test.concurrent('every API request waits the set time, whatever its answer; control requests and other simulators do not', async () => {
    const slow = await startSimulator({ seed: 3, today: TODAY, reservations: 10, latencyMs: 200 })
    const fast = await startSimulator({ seed: 3, today: TODAY, reservations: 10 })
    const timed = async (ask: () => Promise<Response>) => {
      const started = performance.now()
      const response = await ask()
      const body = await response.text()
      return { ms: performance.now() - started, status: response.status, body }
    }
    try {
      const ok = await timed(() => reservations(slow, TODAY, TODAY))
      const refused = await timed(() => call(slow, '/reservations', { key: 'wrong', start_date: TODAY, end_date: TODAY }))
      slow.faults.add({ times: 1, fault: { kind: 'status', status: 502 } })
      const failed = await timed(() => reservations(slow, TODAY, TODAY))
      // Waits overlap: ten requests at once take about one latency, not ten.
      const tenStarted = performance.now()
      await Promise.all(Array.from({ length: 10 }, () => reservations(slow, TODAY, TODAY).then((r) => r.text())))
      const together = { ms: performance.now() - tenStarted }
      const state = await timed(() => fetch(`${slow.baseUrl.replace(/\/api\/v1$/, '')}/_sim/state`))
      const unslowed = await timed(() => reservations(fast, TODAY, TODAY))
      expect([ok.status, refused.status, failed.status]).toEqual([200, 401, 502])
      for (const { ms } of [ok, refused, failed, together]) expect(ms).toBeGreaterThanOrEqual(195)
      expect(together.ms).toBeLessThan(2_000)
      expect(ok.body).toBe(unslowed.body)
      expect(JSON.parse(state.body)).toMatchObject({ latencyMs: 200, requests: 13 })
      expect(state.ms).toBeLessThan(195)
      expect(unslowed.ms).toBeLessThan(195)
    } finally {
      await Promise.all([slow.stop(), fast.stop()])
    }
  })

  test.concurrent('stop() ends the wait at once', async () => {
    const slow = await startSimulator({ reservations: 5, latencyMs: 60_000 })
    const asked = reservations(slow, TODAY, TODAY).then(
      () => 'answered',
      () => 'reset',
    )
    while (slow.requests.length === 0) await Bun.sleep(5)
    const started = performance.now()
    await slow.stop()
    expect(await asked).toBe('reset')
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  test('a latency that is not a whole number of ms is refused', async () => {
    await expect(startSimulator({ latencyMs: -1 })).rejects.toThrow('latencyMs must be a whole number ≥ 0, not -1')
  })
})

describe('the control API', () => {
  const control = (s: Simulator, path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${s.baseUrl.replace(/\/api\/v1$/, '')}/_sim${path}`, init)

  test('faults with nth, mutations, state and requests', async () => {
    const own = await startSimulator({ seed: 2, today: TODAY, reservations: 30 })
    try {
      const rule = { endpoint: '/reservations', nth: 2, fault: { kind: 'status', status: 502 } }
      expect((await control(own, '/faults', { method: 'POST', body: JSON.stringify(rule) })).status).toBe(201)
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await reservations(own, TODAY, TODAY)).status)
      expect(statuses).toEqual([200, 502, 200])

      const bad = await control(own, '/faults', { method: 'POST', body: JSON.stringify({ fault: { kind: 'explode' } }) })
      expect(bad.status).toBe(400)

      const added = await control(own, '/mutate', {
        method: 'POST',
        body: JSON.stringify({ action: 'add', start: `${TODAY}T15:00:00Z`, end: `${TODAY}T23:00:00Z` }),
      })
      const id = ((await added.json()) as WireReservation).reservation_id
      expect(ids(await records(await reservations(own, TODAY, TODAY)))).toContain(id)
      const cancel = await control(own, '/mutate', { method: 'POST', body: JSON.stringify({ action: 'cancel', id }) })
      expect(((await cancel.json()) as WireReservation).cancelled_date).not.toBeNull()
      await control(own, '/mutate', { method: 'POST', body: JSON.stringify({ action: 'delete', id }) })
      expect(ids(await records(await reservations(own, TODAY, TODAY)))).not.toContain(id)
      const missing = await control(own, '/mutate', { method: 'POST', body: JSON.stringify({ action: 'checkin', id }) })
      expect(missing.status).toBe(404)

      await control(own, '/faults', { method: 'POST', body: JSON.stringify({ fault: { kind: 'html' } }) })
      expect((await control(own, '/state').then((r) => r.json())) as Json).toMatchObject({
        today: TODAY,
        timeZone: ZONE,
        reservations: 30,
        liveFaults: 1,
        requests: 5,
      })
      expect((await control(own, '/faults', { method: 'DELETE' })).status).toBe(200)
      expect(((await control(own, '/requests').then((r) => r.json())) as unknown[]).length).toBe(5)
      expect((await reservations(own, TODAY, TODAY)).headers.get('content-type')).toContain('json')
    } finally {
      await own.stop()
    }
  })
})

describe('the standalone process', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)('prints its base URL and key, serves, and stops cleanly on %s', async (signal) => {
    const child = Bun.spawn(
      [
        process.execPath,
        `${import.meta.dir}/../src/simulator/main.ts`,
        '--port',
        '0',
        '--seed',
        '8',
        '--reservations',
        '50',
        '--today',
        TODAY,
        '--latency-ms',
        '1',
      ],
      {
        stdout: 'pipe',
        stderr: 'pipe',
      },
    )
    try {
      let printed = ''
      const reader = child.stdout.getReader()
      while (!printed.includes('GINGR_API_KEY=')) {
        const { value, done } = await reader.read()
        if (done) break
        printed += new TextDecoder().decode(value)
      }
      const env = Object.fromEntries(
        printed
          .trim()
          .split('\n')
          .map((line) => line.split('=', 2)),
      )
      expect(env.GINGR_API_KEY).toBe('sim-key-8')
      const answer = await fetch(`${env.GINGR_BASE_URL}/reservations`, {
        method: 'POST',
        body: new URLSearchParams({ key: env.GINGR_API_KEY ?? '', start_date: TODAY, end_date: TODAY }),
      })
      expect(((await answer.json()) as Json).success).toBe(true)
      child.kill(signal)
      const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running')])
      expect(code).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
