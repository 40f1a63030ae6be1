/**
 * `bun run bench` — measures gingr-sync against the way it replaces and against the floor, and
 * writes BENCHMARKS.md.
 *
 *   bun run bench                 windows of 500, 5,000 and 50,000 reservations, the full sync of
 *                                 11,826 owners and 18,469 animals, 200 tenants against a Gingr
 *                                 300 ms away, and 5,000 behind a 1 ms link to the database
 *                                 (about 9 minutes)
 *   bun run bench -- --quick      500 and 5,000, fewer repetitions, the full sync once, 16 tenants,
 *                                 500 behind the link (about 2 minutes); the report goes to
 *                                 bench/results/BENCHMARKS-quick.md, never over BENCHMARKS.md
 *   bun run bench -- --out PATH   write the report elsewhere
 *   bun run bench -- --baseline PATH
 *                                 also measure peak RSS of this build beside the binary at PATH (an
 *                                 earlier build: the "before") at 5,000, 50,000 and the full sync
 *   bun run bench -- --memory [--baseline PATH]
 *                                 only that (about two minutes); the report goes to
 *                                 bench/results/BENCHMARKS-memory.md
 *
 * PostgreSQL is an embedded server started for the run, or the server of BENCH_DATABASE_URL (a
 * superuser URL: the bench creates and drops databases named gingr_sync_bench_*).
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { redactUrl } from '../src/db/connect.ts'
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.ts'
import { errorMessage } from '../src/errors.ts'
import { baselineRss, buildBinary, RSS_METHOD } from './binary.ts'
import { openDatabases } from './databases.ts'
import { FULL_PLAN } from './full.ts'
import { runBench, type SizePlan } from './harness.ts'
import { MANY_PLAN } from './many.ts'
import { benchMemory, MEMORY_PLAN, type MemoryResult } from './memory.ts'
import type { RemotePlan } from './remote.ts'
import { type Machine, renderMemoryReport, renderReport } from './report.ts'

const FULL: SizePlan[] = [
  { target: 500, repetitions: 5, naiveRepetitions: 3, naiveCap: Infinity },
  { target: 5_000, repetitions: 5, naiveRepetitions: 3, naiveCap: Infinity },
  // The naive way at 50,000 takes a minute or two per run: once, on the whole window.
  { target: 50_000, repetitions: 3, naiveRepetitions: 1, naiveCap: Infinity },
]
const QUICK: SizePlan[] = [
  { target: 500, repetitions: 3, naiveRepetitions: 1, naiveCap: Infinity },
  { target: 5_000, repetitions: 3, naiveRepetitions: 1, naiveCap: Infinity },
]
/** 0.5 ms each way: a 1 ms round trip, a fast LAN. The naive way at 5,000 pays it about 30,000 times. */
const REMOTE: RemotePlan = { target: 5_000, oneWayMs: 0.5, repetitions: 3, naiveRepetitions: 1 }
const QUICK_REMOTE: RemotePlan = { ...REMOTE, target: 500, repetitions: 2 }

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    baseline: { type: 'string' },
    memory: { type: 'boolean', default: false },
  },
})
// The committed BENCHMARKS.md holds the full run's figures: a quick run's report goes beside them.
const report = values.memory ? 'results/BENCHMARKS-memory.md' : values.quick ? 'results/BENCHMARKS-quick.md' : '../BENCHMARKS.md'
const out = resolve(values.out ?? resolve(import.meta.dir, report))
const plan = values.quick ? QUICK : FULL
const COMMAND = Bun.argv.length > 2 ? `bun run bench -- ${Bun.argv.slice(2).join(' ')}` : 'bun run bench'
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)

const started = performance.now()
const loadBefore = loadavg()[0] ?? 0
log('building dist/gingr-sync with ./build.sh')
const binary = await buildBinary()
const given = process.env.BENCH_DATABASE_URL
const server = given
  ? { url: given, stop: async () => {} }
  : await startEmbeddedPostgres().catch((error: unknown) => {
      log(errorMessage(error))
      process.exit(1)
    })
log(`PostgreSQL: ${given ? redactUrl(given) : 'embedded, started for this run'}`)

/** This build beside the baseline's, when one is given (or alone, with --memory). */
async function memory(serverUrl: string): Promise<MemoryResult | undefined> {
  if (!values.baseline && !values.memory) return undefined
  const binaries = [{ label: 'this build', path: binary }]
  if (values.baseline) binaries.push({ label: 'baseline', path: resolve(values.baseline) })
  const databases = await openDatabases(serverUrl)
  try {
    return await benchMemory({ databases, binaries, plan: MEMORY_PLAN, log })
  } finally {
    await databases.close()
  }
}

try {
  if (values.memory) await memoryOnly()
  else await everything()
} finally {
  await server.stop()
}

async function memoryOnly(): Promise<void> {
  const result = (await memory(server.url))!
  await Bun.write(out, renderMemoryReport({ memory: result, command: COMMAND, date: new Date() }))
  log(`wrote ${out}`)
}

async function everything(): Promise<void> {
  const full = values.quick ? { ...FULL_PLAN, repetitions: 1 } : FULL_PLAN
  const many = values.quick ? { ...MANY_PLAN, tenants: 16 } : MANY_PLAN
  const remote = values.quick ? QUICK_REMOTE : REMOTE
  const result = await runBench({ serverUrl: server.url, binary, sizes: plan, log, full, many, remote })
  const compared = await memory(server.url)
  const machine: Machine = {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: totalmem() / 1024 ** 3,
    bun: Bun.version,
    postgres: result.serverVersion,
    database: given
      ? `the server of BENCH_DATABASE_URL (${redactUrl(given)})`
      : 'embedded (the embedded-postgres package, started by src/dev/embedded-postgres.ts: fsync, synchronous_commit and full_page_writes off)',
    rssMethod: RSS_METHOD,
    baselineRssKb: await baselineRss(binary),
    loadBefore,
    loadAfter: loadavg()[0] ?? 0,
    minutes: (performance.now() - started) / 60_000,
  }
  await Bun.write(out, renderReport({ result, memory: compared, machine, command: COMMAND, quick: values.quick, date: new Date() }))
  log(`wrote ${out} after ${machine.minutes.toFixed(1)} minutes`)
}
