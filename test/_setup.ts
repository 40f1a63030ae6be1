/**
 * Preloaded by bunfig.toml for every `bun test` run. The database server of test/_db.ts starts
 * lazily, on the first test that asks for a database; this file makes sure it is stopped, and the
 * databases dropped, once the run ends: passed, failed or interrupted.
 */
import { afterAll, setDefaultTimeout } from 'bun:test'
import { shutdownTestDatabases } from './_db.ts'

/** An interrupted run still cleans up, but never hangs on a server that does not answer. */
const CLEANUP_LIMIT_MS = 15_000

// Tests that start servers or build the binary need more than Bun's 5 s on a loaded 2-core machine;
// a hang still fails within a minute.
setDefaultTimeout(60_000)

// A hook in a preloaded file spans the whole run, not one test file.
afterAll(shutdownTestDatabases)

for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    setTimeout(() => process.exit(exitCode), CLEANUP_LIMIT_MS).unref()
    void shutdownTestDatabases().finally(() => process.exit(exitCode))
  })
}
