/**
 * Peak RSS of the compiled binary as cron runs it, at the sizes issue 13 sets targets for: a first
 * sync of a window of about 5,000 and about 50,000 reservations, and `gingr-sync full` of the
 * measured nightly account (11,826 owners, 18,469 animals), each on a fresh database. Several
 * binaries are measured on the same data, their runs alternating (`--baseline PATH`: an earlier
 * build, the "before"). No write phase, no naive way: the binary's runs only, in a minute or two.
 */
import { LARGE_ACCOUNT, startSimulator } from '../src/simulator/index.ts'
import { runLikeCron, runProcessLikeCron } from './binary.ts'
import { type DatabaseFactory, TENANT_ZONE } from './databases.ts'
import { GENERATED_PER_FETCHED } from './measure.ts'

export interface MemoryPlan {
  /** Reservations the windows should hold. */
  windows: number[]
  full: { owners: number; animals: number }
  /** Runs per scenario and binary; the largest peak is kept. */
  repetitions: number
}

export const MEMORY_PLAN: MemoryPlan = { windows: [5_000, 50_000], full: LARGE_ACCOUNT, repetitions: 2 }

/** Issue 13 §3's targets, MB of peak RSS: a window of 5,000, of 50,000, the full sync of the large account. */
const WINDOW_TARGETS: ReadonlyMap<number, number> = new Map([
  [5_000, 100],
  [50_000, 300],
])
const FULL_TARGET = { ...LARGE_ACCOUNT, mb: 250 }

export interface MemoryScenario {
  /** "a first sync of 5,003 reservations", "a full sync of 11,826 owners and 18,469 animals". */
  label: string
  /** The issue's limit for this scenario, MB; null when it sets none for this size. */
  targetMb: number | null
  /** By binary label: the largest peak RSS of its runs, in kB. */
  peakRssKb: Record<string, number>
}

export interface MemoryResult {
  /** Labels, the measured build first. */
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
      const label = `a first sync of ${fetched.toLocaleString('en-US')} reservations`
      scenarios.push({ label, targetMb: WINDOW_TARGETS.get(target) ?? null, peakRssKb: peaks })
    } finally {
      await sim.stop()
    }
  }

  const { owners, animals } = plan.full
  const sim = await startSimulator({ seed, owners, animals, reservations: 0, timeZone: TENANT_ZONE })
  try {
    const peaks = await measure(`full sync of ${owners} owners, ${animals} animals`, async (path, databaseUrl) => {
      const run = await runProcessLikeCron(path, { databaseUrl, gingrBaseUrl: sim.baseUrl, gingrApiKey: sim.apiKey }, ['full'])
      return run.peakRssKb
    })
    const large = owners === FULL_TARGET.owners && animals === FULL_TARGET.animals
    scenarios.push({
      label: `a full sync of ${owners.toLocaleString('en-US')} owners and ${animals.toLocaleString('en-US')} animals`,
      targetMb: large ? FULL_TARGET.mb : null,
      peakRssKb: peaks,
    })
  } finally {
    await sim.stop()
  }
  return { binaries: binaries.map((b) => b.label), repetitions: plan.repetitions, scenarios }
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`
