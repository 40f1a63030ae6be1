/**
 * The soak's short version for CI (RELIABILITY.md): 25 runs against one database while Gingr
 * changes and faults hit, every third one through the compiled binary. `bun run soak` runs 200.
 * A fixed seed, so CI is reproducible; SOAK_SEED tries another, and a failure prints its seed.
 */
import { expect, setDefaultTimeout, test } from 'bun:test'
import { runSoak } from './_soak.ts'

setDefaultTimeout(240_000)

const seed = Number(process.env.SOAK_SEED ?? 20261127)

test(`soak (seed ${seed}): 25 runs under random changes and faults, then the database equals Gingr`, async () => {
  const report = await runSoak({ seed, iterations: 25, binaryEvery: 3 })
  expect(report.outcomes.synced + report.outcomes.failed + report.outcomes.locked).toBe(25)
  expect(report.binaryRuns).toBe(8)
  expect(report.reservations).toBeGreaterThan(0)
})
