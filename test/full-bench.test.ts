/**
 * The full sync's benchmark (bench/full.ts) on a tiny account, so that it cannot rot between the
 * runs that write BENCHMARKS.md. No timings are asserted; the structural truths the report rests on are.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import type { FullBenchResult } from '../bench/full.ts'
import { type BenchResult, runBench } from '../bench/harness.ts'
import { renderReport } from '../bench/report.ts'
import { binary } from './_binary.ts'
import { serverUrl } from './_db.ts'

let result: BenchResult
let full: FullBenchResult

beforeAll(async () => {
  result = await runBench({
    serverUrl: await serverUrl(),
    binary: await binary(),
    sizes: [],
    seed: 7,
    full: { owners: 60, animals: 90, repetitions: 2, naiveRepetitions: 1 },
  })
  full = result.full!
}, 180_000)

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
    expect(text).toContain('## The full sync: owners and animals')
    expect(text).toContain('| unchanged rerun |')
    expect(text).toContain('| Full sync: unchanged rerun writes 0 rows | 0 rows | ✅ met |')
    expect(text).toContain('| Full sync: a changed rerun writes exactly the changed rows |')
  })
})
