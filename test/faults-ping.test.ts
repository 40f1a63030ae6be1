/**
 * The fault matrix, the monitoring ping (RELIABILITY.md): `--ping-url` pointed at a small server of
 * the test's own, which records what it hears. A run pings `/start`, then the URL itself on success
 * (exit 0 or 3) or `/fail`; a monitor that is down, failing or silent never fails the sync.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Server } from 'bun'
import { type Bed, differences, gingrSync, startBed, stopBed } from './_faults.ts'

const TENANT = 'fault-ping'
const CHECK = '/hc/0b5e6a52-fault-matrix'
let bed: Bed
let monitor: Server<undefined>
/** What the monitor answers: 'ok', 'error' (HTTP 500), or 'silent' on /start (it never answers). */
let mood: 'ok' | 'error' | 'silent' = 'ok'
const heard: string[] = []

setDefaultTimeout(60_000)

beforeAll(async () => {
  bed = await startBed(TENANT)
  monitor = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname
      heard.push(`${req.method} ${path}`)
      if (mood === 'silent' && path.endsWith('/start')) await Bun.sleep(30_000)
      return new Response(mood === 'error' ? 'down' : 'OK', { status: mood === 'error' ? 500 : 200 })
    },
  })
})
afterAll(async () => {
  await monitor?.stop(true)
  await stopBed(bed)
})

const pingUrl = () => `http://127.0.0.1:${monitor.port}${CHECK}`
const pings = (...events: string[]) => events.map((event) => `POST ${CHECK}${event}`)

type Case = [name: string, args: () => string[], env: () => Record<string, string | undefined>, code: number, heard: string[]]

const cases: Case[] = [
  ['a run that syncs', () => ['--ping-url', pingUrl()], () => ({}), 0, pings('/start', '')],
  ['the URL from GINGR_SYNC_PING_URL', () => [], () => ({ GINGR_SYNC_PING_URL: pingUrl() }), 0, pings('/start', '')],
  ['a run that skips invalid records (exit 3) is a success', () => ['--ping-url', pingUrl()], () => ({}), 3, pings('/start', '')],
  [
    'a run whose Gingr key is rejected',
    () => ['--ping-url', pingUrl()],
    () => ({ GINGR_API_KEY: 'gk-Rejected-Ping-31' }),
    1,
    pings('/start', '/fail'),
  ],
  [
    'a run whose database is down',
    () => ['--ping-url', pingUrl()],
    () => ({ DATABASE_URL: 'postgres://postgres:pw-Ping-Down-8@127.0.0.1:9/x' }),
    1,
    pings('/start', '/fail'),
  ],
  [
    'a run for an unknown tenant (exit 2)',
    () => ['--ping-url', pingUrl(), '--tenant', 'no-such-tenant'],
    () => ({}),
    2,
    pings('/start', '/fail'),
  ],
  ['a dry run (by hand: the monitor must not think the hourly job ran)', () => ['--ping-url', pingUrl(), '--dry-run'], () => ({}), 0, []],
]

describe('the monitoring ping', () => {
  for (const [name, args, env, code, expected] of cases) {
    test(`${name}: exit ${code}, pings ${expected.map((p) => p.split(CHECK)[1] || '(success)').join(', ') || 'none'}`, async () => {
      if (code === 3) bed.sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'invalid-records', count: 1 } })
      heard.length = 0
      const result = await gingrSync(bed, ['--tenant', TENANT, ...args()], env())
      bed.sim.faults.clear()
      expect(result.code).toBe(code)
      expect(heard).toEqual(expected)
    })
  }

  const unwell: Array<[string, () => string, 'ok' | 'error' | 'silent', RegExp]> = [
    [
      'down (a closed port)',
      () => 'http://127.0.0.1:9/hc/down',
      'ok',
      /The monitoring ping \(start\) failed: .*; the sync is not affected/,
    ],
    ['answering HTTP 500', pingUrl, 'error', /The monitoring ping \(start\) was answered with HTTP 500; the sync is not affected/],
    ['silent (never answers /start)', pingUrl, 'silent', /The monitoring ping \(start\) failed: .*; the sync is not affected/],
  ]
  for (const [name, url, state, warning] of unwell) {
    test(`a monitor that is ${name} never fails the sync`, async () => {
      bed.sim.account.addReservation()
      mood = state
      try {
        const result = await gingrSync(bed, ['--tenant', TENANT, '--ping-url', url()])
        expect(result.code).toBe(0)
        expect(result.stderr).toMatch(warning)
        expect(result.stderr).toContain('Sync complete')
      } finally {
        mood = 'ok'
      }
      expect(await differences(bed)).toEqual([])
    })
  }
})
