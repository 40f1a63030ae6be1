/**
 * Preloaded by bunfig.toml for every `bun test` run. It starts the embedded database server when
 * no server is named, and makes sure the server is stopped, and the tests' databases dropped, once
 * the run ends: passed, failed or interrupted (set-up included).
 */
import { afterAll } from 'bun:test'
import { errorMessage } from '../src/errors.ts'
import { serverUrl, shutdownTestDatabases } from './_db.ts'
import { memoryScratch } from './_scratch.ts'

// The suite's throwaway files go to memory when TMPDIR is not set and /dev/shm suits (test/_scratch.ts).
const scratch = process.env.TMPDIR ? undefined : memoryScratch()
if (scratch) process.env.TMPDIR = scratch

/** An interrupted run still cleans up, but ends within 10 s even when the server does not answer. */
const CLEANUP_LIMIT_MS = 8_000

// Registered first: a signal during the server's start still stops it and removes its folder.
let interrupted = false
for (const [signal, exitCode] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    interrupted = true
    setTimeout(() => process.exit(exitCode), CLEANUP_LIMIT_MS).unref()
    void shutdownTestDatabases().finally(() => process.exit(exitCode))
  })
}

// Bun resets the default test timeout for every file (and bunfig.toml has no such setting): each
// file that starts servers or runs the binary sets its own 60 s with setDefaultTimeout.

// When a test times out, bun test kills every subprocess its file started, hooks included: a
// server started by the first test that wanted one would go down with that file's first slow test,
// and every later database test with it. Processes started here, before any test, are not tracked.
// A server that cannot start (or a TEST_DATABASE_URL that cannot be used) ends the run at once,
// with its sentence: no test could pass, and bun would otherwise report each as an unhandled error.
await serverUrl().catch(async (error: unknown) => {
  // Killed by the shutdown a signal began: its handler exits with the signal's code.
  if (interrupted) return new Promise<never>(() => {})
  process.stderr.write(`\nThe tests cannot run: ${errorMessage(error)}\n`)
  await shutdownTestDatabases().catch(() => {})
  process.exit(1)
})
// Interrupted while the server started: no test may begin; the handler exits once it is stopped.
if (interrupted) await new Promise(() => {})

// A hook in a preloaded file spans the whole run, not one test file.
afterAll(shutdownTestDatabases)
