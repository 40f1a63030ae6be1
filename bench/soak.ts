/**
 * `bun run soak` — the long soak (RELIABILITY.md): consecutive syncs of one tenant while Gingr
 * changes at random and faults from the fault matrix hit, then a check that the database equals
 * Gingr. test/soak.test.ts runs 25 of these in CI; this runs 200 by default.
 *
 *   bun run soak                          200 runs, a new random seed (printed)
 *   bun run soak -- --seed 42             replay a seed
 *   bun run soak -- --iterations 1000     longer
 *   bun run soak -- --binary-every 0      in-process only (default: every 10th run is the binary)
 *
 * PostgreSQL is TEST_DATABASE_URL's server (a superuser URL), else an embedded one for the run.
 */
import { parseArgs } from 'node:util'
import { shutdownTestDatabases } from '../test/_db.ts'
import { runSoak } from '../test/_soak.ts'

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    iterations: { type: 'string', default: '200' },
    'binary-every': { type: 'string', default: '10' },
    quiet: { type: 'boolean', default: false },
  },
})

function whole(name: string, text: string): number {
  if (!/^\d+$/.test(text)) {
    process.stderr.write(`--${name} must be a whole number, not "${text}".\n`)
    process.exit(2)
  }
  return Number(text)
}

const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : whole('seed', values.seed)
const iterations = whole('iterations', values.iterations)
const binaryEvery = whole('binary-every', values['binary-every'])

console.log(`Soak: seed ${seed}, ${iterations} runs${binaryEvery ? `, every ${binaryEvery}th through the binary` : ', in-process'}`)
let code = 0
try {
  const report = await runSoak({ seed, iterations, binaryEvery, log: values.quiet ? undefined : (line) => console.log(`  ${line}`) })
  const faults = Object.entries(report.faults)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ')
  console.log(
    [
      `Passed: seed ${report.seed}, ${report.iterations} runs in ${(report.durationMs / 1000).toFixed(1)} s (${report.binaryRuns} through the binary).`,
      `  Outcomes: ${report.outcomes.synced} synced, ${report.outcomes.failed} failed and wrote nothing, ${report.outcomes.locked} locked.`,
      `  Faults: ${faults}.`,
      `  Gingr changes: ${report.mutations}. At the end, ${report.reservations} reservations in the window, every one equal to Gingr's.`,
    ].join('\n'),
  )
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  code = 1
} finally {
  await shutdownTestDatabases()
}
process.exit(code)
