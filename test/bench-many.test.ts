/**
 * The many-tenant run of the benchmark on a handful of tenants, so that it cannot rot between the
 * runs that write BENCHMARKS.md. Its figures are checked against what must be true of them: each
 * tenant synced once, the simulators' latency paid per request, a mode the binary cannot run
 * reported as such (until the binary has --concurrency), never a figure made up.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { openDatabases } from '../bench/databases.ts'
import { benchMany, hasConcurrency, type ManyPlan, type ManyResult } from '../bench/many.ts'
import { TIMING_VARIABLE } from '../src/timing.ts'
import { binary, TEST_TIMING } from './_binary.ts'
import { serverUrl } from './_db.ts'

const PLAN: ManyPlan = { tenants: 6, latencyMs: 100, concurrency: 3, reservations: 20 }
const lines: string[] = []
let result: ManyResult
let concurrent: boolean
let closeDatabases: () => Promise<void>

beforeAll(async () => {
  const databases = await openDatabases(await serverUrl())
  closeDatabases = databases.close
  const built = await binary()
  concurrent = await hasConcurrency(built)
  result = await benchMany({
    databases,
    binary: built,
    plan: PLAN,
    log: (line) => lines.push(line),
    env: { [TIMING_VARIABLE]: JSON.stringify(TEST_TIMING) },
  })
}, 120_000)
afterAll(() => closeDatabases())

const mode = (index: number) => result.modes[index]!

describe('the many-tenant run on a few tenants', () => {
  test('serial: every tenant synced once, each of its requests paid the latency one after the other', () => {
    const serial = mode(0)
    expect(serial).toMatchObject({ name: 'serial', processes: 1, tenantsSynced: PLAN.tenants, syncedTwice: 0 })
    expect(serial.outcomes).toEqual({ synced: PLAN.tenants })
    // Two chunk requests per tenant (7 days back, 30 ahead), nothing else on a first sync.
    expect(serial.gingrRequests).toBe(PLAN.tenants * 2)
    expect(serial.wallMs).toBeGreaterThanOrEqual(serial.gingrRequests * PLAN.latencyMs)
    expect(serial.peakRssKb).toHaveLength(1)
    expect(serial.peakRssKb[0]).toBeGreaterThan(1024)
    expect(serial.peakConnections).toBeGreaterThanOrEqual(1)
    expect(serial.peakConnections).toBeLessThanOrEqual(2)
  })

  test('the concurrent modes: measured when the binary has --concurrency, else one line saying they are not available', () => {
    const [, one, two] = result.modes
    expect(one!.name).toBe(`--concurrency ${PLAN.concurrency}`)
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
      expect(measured.tenantsSynced).toBe(PLAN.tenants)
      expect(measured.syncedTwice).toBe(0)
      expect(measured.peakConnections).toBeLessThanOrEqual(measured.processes * (PLAN.concurrency + 1))
    }
    expect(one!.wallMs).toBeLessThan(mode(0).wallMs)
  })
})
