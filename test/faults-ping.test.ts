/**
 * The fault matrix, the monitoring ping (RELIABILITY.md): `--ping-url` pointed at a small server of
 * the test's own, which records what it hears. A run pings `/start`, then the URL itself on success
 * (exit 0 or 3) or `/fail`; a monitor that is down, failing or silent never fails the sync.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type Bed, type Beds, differences, gingrSync, startBeds } from './_faults.ts'

const CHECK = '/hc/0b5e6a52-fault-matrix'
let beds: Beds

setDefaultTimeout(60_000)

beforeAll(async () => {
  beds = await startBeds('fault-ping')
})
afterAll(async () => {
  await beds?.stop()
})

type Mood = 'ok' | 'error' | 'silent'

/** A monitor of the case's own, and what it heard: cases side by side never hear each other's pings. */
interface Monitor {
  url: string
  heard: string[]
  stop(): Promise<void>
}

/** A monitor that answers as `mood` says: 'ok', 'error' (HTTP 500), or 'silent' on /start (it never answers). */
function startMonitor(mood: Mood): Monitor {
  const heard: string[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const { pathname: path, search } = new URL(req.url)
      heard.push(`${req.method} ${path}${search}`)
      if (mood === 'silent' && path.endsWith('/start')) await Bun.sleep(30_000)
      return new Response(mood === 'error' ? 'down' : 'OK', { status: mood === 'error' ? 500 : 200 })
    },
  })
  return { url: `http://127.0.0.1:${server.port}${CHECK}`, heard, stop: () => server.stop(true) }
}

/** A bed and a monitor for one case; the monitor is stopped when `check` ends. */
async function withMonitor(mood: Mood, check: (bed: Bed, monitor: Monitor) => Promise<void>): Promise<void> {
  const bed = await beds.bed()
  const monitor = startMonitor(mood)
  try {
    await check(bed, monitor)
  } finally {
    await monitor.stop()
  }
}

const pings = (...events: string[]) => events.map((event) => `POST ${CHECK}${event}`)

type Case = [
  name: string,
  args: (pingUrl: string) => string[],
  env: (pingUrl: string) => Record<string, string | undefined>,
  code: number,
  heard: string[],
]

const cases: Case[] = [
  ['a run that syncs', (url) => ['--ping-url', url], () => ({}), 0, pings('/start', '')],
  ['the URL from GINGR_SYNC_PING_URL', () => [], (url) => ({ GINGR_SYNC_PING_URL: url }), 0, pings('/start', '')],
  ['a run that skips invalid records (exit 3) is a success', (url) => ['--ping-url', url], () => ({}), 3, pings('/start', '')],
  [
    'a run whose Gingr key is rejected',
    (url) => ['--ping-url', url],
    () => ({ GINGR_API_KEY: 'gk-Rejected-Ping-31' }),
    1,
    pings('/start', '/fail'),
  ],
  [
    'a run whose database is down',
    (url) => ['--ping-url', url],
    () => ({ DATABASE_URL: 'postgres://postgres:pw-Ping-Down-8@127.0.0.1:9/x' }),
    1,
    pings('/start', '/fail'),
  ],
  [
    'a run for an unknown tenant (exit 2)',
    (url) => ['--ping-url', url, '--tenant', 'no-such-tenant'],
    () => ({}),
    2,
    pings('/start', '/fail'),
  ],
  [
    'a URL with a query (a push monitor), on a failure: /start and /fail go before the query',
    (url) => ['--ping-url', `${url}?status=up&msg=OK`],
    () => ({ GINGR_API_KEY: 'gk-Rejected-Ping-32' }),
    1,
    pings('/start?status=up&msg=OK', '/fail?status=up&msg=OK'),
  ],
  ['a dry run (by hand: the monitor must not think the hourly job ran)', (url) => ['--ping-url', url, '--dry-run'], () => ({}), 0, []],
]

// Each case with a bed and a monitor of its own: side by side.
describe.concurrent('the monitoring ping', () => {
  for (const [name, args, env, code, expected] of cases) {
    test(`${name}: exit ${code}, pings ${expected.map((p) => p.split(CHECK)[1] || '(success)').join(', ') || 'none'}`, async () => {
      await withMonitor('ok', async (bed, monitor) => {
        if (code === 3) bed.sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'invalid-records', count: 1 } })
        const result = await gingrSync(bed, ['--tenant', bed.tenant, ...args(monitor.url)], env(monitor.url))
        bed.sim.faults.clear()
        expect(result.code).toBe(code)
        expect(monitor.heard).toEqual(expected)
      })
    })
  }

  const unwell: Array<[string, (pingUrl: string) => string, Mood, RegExp]> = [
    [
      'down (a closed port)',
      () => 'http://127.0.0.1:9/hc/down',
      'ok',
      /The monitoring ping \(start\) failed: .*; the sync is not affected/,
    ],
    ['answering HTTP 500', (url) => url, 'error', /The monitoring ping \(start\) was answered with HTTP 500; the sync is not affected/],
    ['silent (never answers /start)', (url) => url, 'silent', /The monitoring ping \(start\) failed: .*; the sync is not affected/],
  ]
  for (const [name, url, mood, warning] of unwell) {
    test(`a monitor that is ${name} never fails the sync`, async () => {
      await withMonitor(mood, async (bed, monitor) => {
        bed.sim.account.addReservation()
        const result = await gingrSync(bed, ['--tenant', bed.tenant, '--ping-url', url(monitor.url)])
        expect(result.code).toBe(0)
        expect(result.stderr).toMatch(warning)
        expect(result.stderr).toContain('Sync complete')
        expect(await differences(bed)).toEqual([])
      })
    })
  }
})
