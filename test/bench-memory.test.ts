/**
 * The memory benchmark (bench/memory.ts) on tiny sizes, so that it cannot rot between the runs that
 * measure it. No figure is asserted beyond being one; the table the report shows is.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { openDatabases } from '../bench/databases.ts'
import { benchMemory, type MemoryResult } from '../bench/memory.ts'
import { renderMemoryReport } from '../bench/report.ts'
import { binary } from './_binary.ts'
import { serverUrl } from './_db.ts'

let result: MemoryResult

beforeAll(async () => {
  const databases = await openDatabases(await serverUrl())
  try {
    const path = await binary()
    result = await benchMemory({
      databases,
      // The same build twice: the comparison's plumbing, not a difference, is under test.
      binaries: [
        { label: 'this build', path },
        { label: 'baseline', path },
      ],
      plan: { windows: [60], full: { owners: 30, animals: 45 }, repetitions: 1 },
      seed: 3,
      log: () => {},
    })
  } finally {
    await databases.close()
  }
}, 120_000)

describe('the memory bench on tiny sizes', () => {
  test('measures every binary in every scenario: a window, then the full sync', () => {
    expect(result.binaries).toEqual(['this build', 'baseline'])
    expect(result.scenarios.map((s) => s.label)).toEqual([
      expect.stringMatching(/^a first sync of \d+ reservations$/),
      'a full sync of 30 owners and 45 animals',
    ])
    for (const scenario of result.scenarios) {
      expect(scenario.peakRssKb['this build']).toBeGreaterThan(1024)
      expect(scenario.peakRssKb.baseline).toBeGreaterThan(1024)
      // The issue sets limits for 5,000, 50,000 and the large account only.
      expect(scenario.targetMb).toBeNull()
    }
  })

  test('the report shows one column per binary and one row per scenario', () => {
    const text = renderMemoryReport({ memory: result, command: 'bun test', date: new Date() })
    expect(text).toContain('| run | this build | baseline | target |')
    expect(text).toContain('| a full sync of 30 owners and 45 animals | ')
    expect(text.match(/^\| a /gm)).toHaveLength(2)
  })
})
