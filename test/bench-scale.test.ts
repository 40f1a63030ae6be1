/**
 * The benchmark's scale runs on a handful of tenants and a tiny window, so that they cannot rot
 * between the runs that write BENCHMARKS.md: many tenants against a slow Gingr (each tenant
 * synced once, the latency paid per request, a mode the binary cannot run reported as such until
 * it has --concurrency, never a figure made up), and a database behind the slow link (every naive
 * statement pays the link's round trip, gingr-sync's count stays fixed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type DatabaseFactory, openDatabases } from '../bench/databases.ts'
import { benchMany, hasConcurrency, type ManyPlan, type ManyResult } from '../bench/many.ts'
import { benchRemote, linkTarget, type RemotePlan, type RemoteResult } from '../bench/remote.ts'
import { renderReport } from '../bench/report.ts'
import { startSlowLink } from '../bench/slow-link.ts'
import { TIMING_VARIABLE } from '../src/timing.ts'
import { binary, TEST_TIMING } from './_binary.ts'
import { serverUrl } from './_db.ts'

const MANY: ManyPlan = { tenants: 6, latencyMs: 100, concurrency: 3, reservations: 20 }
const REMOTE: RemotePlan = { target: 60, oneWayMs: 0.5, repetitions: 1, naiveRepetitions: 1 }
const lines: string[] = []
let databases: DatabaseFactory
let many: ManyResult
let remote: RemoteResult | null
let concurrent: boolean

beforeAll(async () => {
  const url = await serverUrl()
  databases = await openDatabases(url)
  const built = await binary()
  concurrent = await hasConcurrency(built)
  const log = (line: string) => lines.push(line)
  // Side by side: every timing asserted below is a floor, which a busier machine cannot break.
  const runs = await Promise.all([
    benchMany({ databases, binary: built, plan: MANY, log, env: { [TIMING_VARIABLE]: JSON.stringify(TEST_TIMING) } }),
    benchRemote({ databases, serverUrl: url, binary: built, plan: REMOTE, seed: 4, log }),
  ])
  many = runs[0]
  remote = runs[1]
}, 120_000)
afterAll(() => databases.close())

const mode = (index: number) => many.modes[index]!

describe('the many-tenant run on a few tenants', () => {
  test('serial: every tenant synced once, each of its requests paid the latency one after the other', () => {
    const serial = mode(0)
    expect(serial).toMatchObject({ name: 'serial', processes: 1, tenantsSynced: MANY.tenants, syncedTwice: 0 })
    expect(serial.outcomes).toEqual({ synced: MANY.tenants })
    // Per tenant two chunk requests (7 days back, 30 ahead) and the owner refresh's one; nothing
    // else on a first sync.
    expect(serial.gingrRequests).toBe(MANY.tenants * 3)
    expect(serial.wallMs).toBeGreaterThanOrEqual(serial.gingrRequests * MANY.latencyMs)
    expect(serial.peakRssKb).toHaveLength(1)
    expect(serial.peakRssKb[0]).toBeGreaterThan(1024)
    expect(serial.peakConnections).toBeGreaterThanOrEqual(1)
    expect(serial.peakConnections).toBeLessThanOrEqual(2)
  })

  test('the concurrent modes: measured when the binary has --concurrency, else one line saying they are not available', () => {
    const [, one, two] = many.modes
    expect(one!.name).toBe(`--concurrency ${MANY.concurrency}`)
    expect(two!.processes).toBe(2)
    if (!concurrent) {
      for (const unavailable of [one!, two!]) {
        expect(unavailable.unavailable).toBe('not available from this binary: it has no --concurrency option')
        expect(unavailable.tenantsSynced).toBe(0)
        expect(lines.filter((line) => line.startsWith(`many tenants, ${unavailable.name}:`))).toEqual([
          `many tenants, ${unavailable.name}: not available from this binary: it has no --concurrency option`,
        ])
      }
      return
    }
    for (const measured of [one!, two!]) {
      expect(measured.unavailable).toBeUndefined()
      expect(measured.tenantsSynced).toBe(MANY.tenants)
      expect(measured.syncedTwice).toBe(0)
      expect(measured.peakConnections).toBeLessThanOrEqual(measured.processes * (MANY.concurrency + 1))
    }
    expect(one!.wallMs).toBeLessThan(mode(0).wallMs)
    expect(two!.gingrRequests).toBe(mode(0).gingrRequests)
  })
})

describe('the database behind the slow link', () => {
  test('the link adds its round trip, and every naive statement through it pays it', () => {
    const { roundTrip, direct, link, fetched } = remote!
    const floor = REMOTE.oneWayMs * 2 * 0.8
    expect(roundTrip.linkMs - roundTrip.directMs).toBeGreaterThan(floor)
    expect(link.naive.first.statements).toBeGreaterThan(fetched * 4)
    expect(link.naive.first.statements).toBe(direct.naive.first.statements)
    // A floor, which load cannot break: each statement waited at least for the link's hold.
    expect(link.naive.first.ms[0]! / link.naive.first.statements).toBeGreaterThan(floor)
    expect(link.naive.rerun.rowsWritten).toBe(fetched)
  })

  test.each(['direct', 'link'] as const)(
    'gingr-sync %s: a first sync writes, an unchanged rerun writes nothing, its statements stay few',
    (path) => {
      const { first, unchanged } = remote![path]
      expect(first.rowsWritten).toBeGreaterThan(remote!.fetched)
      expect(unchanged.rowsWritten).toBe(0)
      expect(first.statements).toBe(unchanged.statements)
      expect(first.statements).toBeLessThan(30)
    },
  )

  test.each([
    ['postgres://u:p@127.0.0.1:5433/db', { host: '127.0.0.1', port: 5433 }],
    ['postgres://u@db.internal/db', { host: 'db.internal', port: 5432 }],
    ['postgres://u@[::1]:6000/db', { host: '::1', port: 6000 }],
    ['postgres://u@localhost/db?host=/run/postgresql', null],
    ['postgres://u@%2Frun%2Fpostgresql/db', null],
  ])('the link target of %s', (url, target) => {
    expect(linkTarget(url)).toEqual(target)
  })

  test('the link leaves no process behind, and says why it did not start', async () => {
    const link = await startSlowLink({ host: '127.0.0.1', port: 1 }, 0.5)
    await link.stop()
    expect(() => process.kill(link.pid, 0)).toThrow()
    await expect(startSlowLink({ host: '127.0.0.1', port: 1 }, -1)).rejects.toThrow(
      'The slow link did not start: usage: bun bench/slow-link.ts HOST PORT ONE_WAY_MS',
    )
  })
})

test('the report shows both runs and checks the targets it can', () => {
  const text = renderReport({
    result: { serverVersion: '18', auditAvailable: false, sizes: [], many, remote: remote! },
    machine: {
      cpus: 2,
      cpuModel: 'test',
      memoryGb: 1,
      bun: Bun.version,
      postgres: '18',
      database: 'test',
      rssMethod: 'test',
      baselineRssKb: 40_000,
      loadBefore: 0,
      loadAfter: 0,
      minutes: 1,
    },
    command: 'bun test',
    quick: true,
    date: new Date(),
  })
  expect(text).toContain('## Many tenants against a slow Gingr')
  expect(text).toContain(
    `| Many tenants, serial: every one of ${MANY.tenants} synced, none twice | ${MANY.tenants} synced, 0 twice | ✅ met |`,
  )
  expect(text).toContain('## What a remote database costs')
  expect(text).toContain(`${remote!.roundTrip.linkMs.toFixed(2)} ms through the link`)
  if (!concurrent) expect(text).toContain('| not available from this binary: it has no --concurrency option | – |')
})
