/**
 * The benchmark harness on tiny sizes, so that it cannot rot between the runs that write
 * BENCHMARKS.md: the windows (the binary against the naive way and the COPY floor), the full sync,
 * many tenants against a slow Gingr and a database behind the slow link, and the memory table.
 * No timing is asserted beyond a floor that load cannot break; the structural truths the report
 * rests on are. The four benches run side by side: each has databases of its own, and together
 * they take the time of the slowest instead of the sum.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type DatabaseFactory, openDatabases } from '../bench/databases.ts'
import type { FullBenchResult } from '../bench/full.ts'
import { type BenchResult, runBench, type SizeResult } from '../bench/harness.ts'
import { benchMany, hasConcurrency, type ManyPlan, type ManyResult } from '../bench/many.ts'
import { benchMemory, type MemoryResult } from '../bench/memory.ts'
import { benchRemote, linkTarget, type RemotePlan, type RemoteResult } from '../bench/remote.ts'
import { renderMemoryReport, renderReport } from '../bench/report.ts'
import { startSlowLink } from '../bench/slow-link.ts'
import { TIMING_VARIABLE } from '../src/timing.ts'
import { binary, TEST_TIMING } from './_binary.ts'
import { serverUrl } from './_db.ts'

const MANY: ManyPlan = { tenants: 6, latencyMs: 50, concurrency: 3, reservations: 20 }
/** The tests' waits for every binary the benches run: no pause between requests to the simulator. */
const env = { [TIMING_VARIABLE]: JSON.stringify(TEST_TIMING) }
const REMOTE: RemotePlan = { target: 30, oneWayMs: 0.5, repetitions: 1, naiveRepetitions: 1 }

let result: BenchResult
let fullResult: BenchResult
let full: FullBenchResult
const lines: string[] = []
let databases: DatabaseFactory
let many: ManyResult
let remote: RemoteResult | null
let concurrent: boolean
let memory: MemoryResult

beforeAll(async () => {
  const url = await serverUrl()
  const built = await binary()
  databases = await openDatabases(url)
  concurrent = await hasConcurrency(built)
  const log = (line: string) => lines.push(line)
  const memoryDatabases = await openDatabases(url)
  ;[result, fullResult, many, remote, memory] = await Promise.all([
    runBench({
      serverUrl: url,
      binary: built,
      sizes: [40, 120].map((target) => ({ target, repetitions: 1, naiveRepetitions: 1, naiveCap: 100 })),
      seed: 5,
      env,
    }),
    runBench({
      serverUrl: url,
      binary: built,
      sizes: [],
      seed: 7,
      full: { owners: 60, animals: 90, repetitions: 1, naiveRepetitions: 1 },
      env,
    }),
    benchMany({ databases, binary: built, plan: MANY, log, env }),
    benchRemote({ databases, serverUrl: url, binary: built, plan: REMOTE, seed: 4, log, env }),
    benchMemory({
      databases: memoryDatabases,
      // The same build twice: the comparison's plumbing, not a difference, is under test.
      binaries: [
        { label: 'this build', path: built },
        { label: 'baseline', path: built },
      ],
      plan: { windows: [60], full: { owners: 30, animals: 45 }, repetitions: 1 },
      seed: 3,
      log: () => {},
    }).finally(() => memoryDatabases.close()),
  ])
  full = fullResult.full!
}, 180_000)
afterAll(() => databases?.close())

/** The machine a report names: any will do, the report's shape is under test. */
const machine = (postgres: string) => ({
  cpus: 2,
  cpuModel: 'test',
  memoryGb: 1,
  bun: Bun.version,
  postgres,
  database: 'test',
  rssMethod: 'test',
  baselineRssKb: 40_000,
  loadBefore: 0,
  loadAfter: 0,
  minutes: 1,
})

const sizes = () => result.sizes
const entities = (size: SizeResult) => size.floor.rows

describe('the bench harness on tiny windows', () => {
  test('fetches windows of about the asked size, the larger one larger', () => {
    const [small, large] = sizes()
    expect(small!.fetched).toBeGreaterThan(30)
    expect(large!.fetched).toBeGreaterThan(small!.fetched * 2)
  })

  test('the binary sends the same number of statements whatever the window and the run', () => {
    const counts = sizes().flatMap((size) => [...size.first, ...size.unchanged, ...size.changed].map((run) => run.statements))
    expect(counts.length).toBe(6)
    expect(new Set(counts).size).toBe(1)
    expect(counts[0]).toBeGreaterThan(0)
  })

  test("every run writes its two rows of bookkeeping, the tenant's stamp and the run history", () => {
    const runs = sizes().flatMap((size) => [...size.first, ...size.unchanged, ...size.changed])
    expect(runs.map((run) => run.bookkeepingRows)).toEqual(runs.map(() => 2))
  })

  test.each([0, 1])('window %d: a first sync writes every entity once, a rerun nothing, a changed rerun the changed ones', (index) => {
    const size = sizes()[index]!
    const [first] = size.first
    expect(first!.created).toBe(size.fetched)
    expect(first!.rowsWritten).toBe(entities(size))
    expect(size.unchanged[0]!.rowsWritten).toBe(0)
    expect(size.unchanged[0]!.unchanged).toBe(size.fetched)
    expect(size.changedPerRun[0]).toBeGreaterThan(0)
    expect(size.changed[0]!.updated).toBe(size.changedPerRun[0]!)
    expect(size.changed[0]!.rowsWritten).toBe(size.changedPerRun[0]!)
    expect(first!.peakRssKb).toBeGreaterThan(1024)
  })

  test.each([0, 1])(
    'window %d: the write phase writes what the binary wrote, then nothing; the naive way rewrites every reservation',
    (index) => {
      const size = sizes()[index]!
      expect(size.writePhase.first.rowsWritten).toBe(entities(size))
      expect(size.writePhase.unchanged.rowsWritten).toBe(0)
      expect(size.naive.rerun.rowsWritten).toBe(size.naive.measuredOn)
      expect(size.naive.first.statements).toBeGreaterThan(size.naive.measuredOn * 4)
    },
  )

  test('a window above the naive cap is measured on a slice of it', () => {
    const [small, large] = sizes()
    expect(small!.naive.measuredOn).toBe(small!.fetched)
    expect(large!.naive.measuredOn).toBe(100)
  })

  test('the report renders every window and checks the targets', () => {
    const text = renderReport({
      result,
      machine: machine(result.serverVersion),
      command: 'bun test',
      quick: true,
      date: new Date(),
    })
    for (const size of sizes()) expect(text).toContain(`| **${size.fetched}** | ${(size.payloadBytes / 1e6).toFixed(1)} MB | first sync |`)
    expect(text).toContain("| Statements constant in the window's size |")
    expect(text).toContain('✅ met')
    expect(text).toContain('Measured on the first 100 reservations')
  })
})

describe('the full sync bench on a tiny account', () => {
  test('a first run creates every owner and animal once; an unchanged rerun writes nothing', () => {
    for (const run of full.first) {
      expect(run.customers).toEqual({ created: 60, updated: 0, unchanged: 0 })
      expect(run.pets).toEqual({ created: 90, updated: 0, unchanged: 0 })
      expect(run.rowsWritten).toBe(150)
      expect(run.peakRssKb).toBeGreaterThan(1024)
    }
    for (const run of full.unchanged) {
      expect(run.rowsWritten).toBe(0)
      expect(run.customers.unchanged + run.pets.unchanged).toBe(150)
    }
  })

  test('a changed rerun writes exactly the owners and animals that changed, each round others', () => {
    expect(full.changedPerRun.every((n) => n > 0)).toBe(true)
    full.changed.forEach((run, round) => {
      expect(run.customers.updated + run.pets.updated).toBe(full.changedPerRun[round]!)
      expect(run.rowsWritten).toBe(full.changedPerRun[round]!)
    })
  })

  test('the same statements in every run; the old way writes every row again on a rerun', () => {
    const statements = [...full.first, ...full.unchanged, ...full.changed].map((run) => run.statements)
    expect(new Set(statements).size).toBe(1)
    expect(full.naive.first.rowsWritten).toBe(150)
    expect(full.naive.rerun.rowsWritten).toBe(150)
    expect(full.naive.first.statements).toBeGreaterThan(150 * 2)
  })

  test('the report has the full sync table and its targets', () => {
    const text = renderReport({
      result: fullResult,
      machine: machine(fullResult.serverVersion),
      command: 'bun test',
      quick: true,
      date: new Date(),
    })
    expect(text).toContain('## The full sync: owners and animals')
    expect(text).toContain('| unchanged rerun |')
    expect(text).toContain('| Full sync: unchanged rerun writes 0 rows | 0 rows | ✅ met |')
    expect(text).toContain('| Full sync: a changed rerun writes exactly the changed rows |')
  })
})

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
    machine: machine('18'),
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

describe('the memory bench on tiny sizes', () => {
  test('measures every binary in every scenario: a window, then the full sync', () => {
    expect(memory.binaries).toEqual(['this build', 'baseline'])
    expect(memory.scenarios.map((s) => s.label)).toEqual([
      expect.stringMatching(/^a first sync of \d+ reservations$/),
      'a full sync of 30 owners and 45 animals',
    ])
    for (const scenario of memory.scenarios) {
      expect(scenario.peakRssKb['this build']).toBeGreaterThan(1024)
      expect(scenario.peakRssKb.baseline).toBeGreaterThan(1024)
      // The issue sets limits for 5,000, 50,000 and the large account only.
      expect(scenario.targetMb).toBeNull()
    }
  })

  test('the report shows one column per binary and one row per scenario', () => {
    const text = renderMemoryReport({ memory, command: 'bun test', date: new Date() })
    expect(text).toContain('| run | this build | baseline | target |')
    expect(text).toContain('| a full sync of 30 owners and 45 animals | ')
    expect(text.match(/^\| a /gm)).toHaveLength(2)
  })
})
