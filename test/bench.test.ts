/**
 * The benchmark harness on tiny windows, so that it cannot rot between the runs that write
 * BENCHMARKS.md. No timings are asserted; the structural truths the report rests on are.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { type BenchResult, runBench, type SizeResult } from '../bench/harness.ts'
import { renderReport } from '../bench/report.ts'
import { binary } from './_binary.ts'
import { serverUrl } from './_db.ts'

let result: BenchResult

beforeAll(async () => {
  result = await runBench({
    serverUrl: await serverUrl(),
    binary: await binary(),
    sizes: [60, 150].map((target) => ({ target, repetitions: 1, naiveRepetitions: 1, naiveCap: 100 })),
    seed: 5,
  })
}, 180_000)

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
      machine: {
        cpus: 2,
        cpuModel: 'test',
        memoryGb: 1,
        bun: Bun.version,
        postgres: result.serverVersion,
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
    for (const size of sizes()) expect(text).toContain(`| **${size.fetched}** | ${(size.payloadBytes / 1e6).toFixed(1)} MB | first sync |`)
    expect(text).toContain("| Statements constant in the window's size |")
    expect(text).toContain('✅ met')
    expect(text).toContain('Measured on the first 100 reservations')
  })
})
