/**
 * Peak RSS of the compiled binary as cron runs it, at the sizes issue 13 sets targets for: a first
 * sync of a window of about 5,000 and about 50,000 reservations, and `gingr-sync full` of the
 * measured nightly account (11,826 owners, 18,469 animals), each on a fresh database. Several
 * binaries can be measured on the same data (`--baseline PATH`: an earlier build, the "before").
 * No write phase, no naive way: this is bench/harness.ts's binary runs, memory only, in a minute.
 */
import { LARGE_ACCOUNT, startSimulator } from '../src/simulator/index.ts'
import { runLikeCron, runProcessLikeCron } from './binary.ts'
import { type DatabaseFactory, TENANT_ZONE } from './databases.ts'
import { GENERATED_PER_FETCHED } from './harness.ts'

/** Issue 13 §3's targets, MB of peak RSS. */
export const MEMORY_TARGETS = { window5k: 100, window50k: 300, full: 250 } as const

export interface MemoryPlan {
  /** Reservations the windows should hold. */
  windows: number[]
  full: { owners: number; animals: number }
  /** Runs per scenario and binary; the largest peak is kept. */
  repetitions: number
}

export const MEMORY_PLAN: MemoryPlan = { windows: [5_000, 50_000], full: LARGE_ACCOUNT, repetitions: 2 }

export interface MemoryScenario {
  /** `window` of `size` reservations fetched, or `full` of `size` owners + animals listed. */
  kind: 'window' | 'full'
  size: number
  /** By binary label: the largest peak RSS of its runs, in kB. */
  peakRssKb: Record<string, number>
}

export interface MemoryResult {
  binaries: string[]
  repetitions: number
  scenarios: MemoryScenario[]
}

export interface Binary {
  label: string
  path: string
}

export async function benchMemory(options: {
  databases: DatabaseFactory
  binaries: Binary[]
  plan: MemoryPlan
  seed?: number
  log: (line: string) => void
}): Promise<MemoryResult> {
  const { databases, binaries, plan, log } = options
  const seed = options.seed ?? 1
  const scenarios: MemoryScenario[] = []
  const measure = async (name: string, run: (binary: string, url: string) => Promise<number>) => {
    const peaks: Record<string, number> = {}
    // Binaries alternate within each repetition: a load change on this shared machine hits both.
    for (let rep = 0; rep < plan.repetitions; rep++) {
      for (const binary of binaries) {
        const database = await databases.fresh()
        try {
          peaks[binary.label] = Math.max(peaks[binary.label] ?? 0, await run(binary.path, database.url))
        } finally {
          await database.drop()
        }
      }
    }
    log(`memory: ${name}: ${binaries.map((b) => `${b.label} ${mb(peaks[b.label]!)}`).join(', ')}`)
    return peaks
  }

  for (const target of plan.windows) {
    const generated = Math.round(target * GENERATED_PER_FETCHED)
    const sim = await startSimulator({
      seed,
      reservations: generated,
      owners: Math.ceil(generated / 3),
      animals: Math.ceil(generated / 2),
      timeZone: TENANT_ZONE,
    })
    try {
      let fetched = 0
      const peaks = await measure(`window of about ${target}`, async (path, databaseUrl) => {
        const run = await runLikeCron(path, { databaseUrl, gingrBaseUrl: sim.baseUrl, gingrApiKey: sim.apiKey })
        fetched = run.tenant.fetched
        return run.peakRssKb
      })
      scenarios.push({ kind: 'window', size: fetched, peakRssKb: peaks })
    } finally {
      await sim.stop()
    }
  }

  const sim = await startSimulator({ seed, ...plan.full, reservations: 0, timeZone: TENANT_ZONE })
  try {
    const peaks = await measure(`full sync of ${plan.full.owners} owners, ${plan.full.animals} animals`, async (path, databaseUrl) => {
      const run = await runProcessLikeCron(path, { databaseUrl, gingrBaseUrl: sim.baseUrl, gingrApiKey: sim.apiKey }, ['full'])
      return run.peakRssKb
    })
    scenarios.push({ kind: 'full', size: plan.full.owners + plan.full.animals, peakRssKb: peaks })
  } finally {
    await sim.stop()
  }
  return { binaries: binaries.map((b) => b.label), repetitions: plan.repetitions, scenarios }
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`
