import { resolve } from 'node:path'
import { TIMING_VARIABLE, type Timing } from '../src/timing.ts'

/** The compiled binary the end-to-end tests run, built once per test run by the project's own build.sh. */
export const BINARY = resolve(import.meta.dir, '../dist/gingr-sync')

let built: Promise<string> | undefined

export function binary(): Promise<string> {
  built ??= (async () => {
    const proc = Bun.spawn(['./build.sh'], { cwd: resolve(import.meta.dir, '..'), stdout: 'pipe', stderr: 'pipe' })
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    if (code !== 0) throw new Error(`build.sh failed (${code}): ${stderr}`)
    return BINARY
  })()
  return built
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * The waits of the CLI under test (src/timing.ts): milliseconds where production waits seconds, so
 * that a retried fault costs its attempts, not the backoff between them. Gingr's request timeout
 * and deadline are left alone: the tests that time out set theirs (`--timeout`), and no other
 * answer may be cut short on a loaded machine. 500 ms is ample for a monitor on 127.0.0.1, and
 * closing the pool waits only for a transaction that was abandoned with its lost connection.
 */
export const TEST_TIMING = {
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  doctorBackoffBaseMs: 10,
  paceMs: 0,
  pingTimeoutMs: 500,
  closeTimeoutMs: 200,
  lockPollMs: 50,
} as const satisfies Partial<Timing>

/**
 * JavaScriptCore's optimizing compiler (DFG) pays for itself in a process that runs for seconds; a
 * test's run of the binary lasts about 100 ms, and compiling for it cost a fifth of the run's CPU
 * (measured here: 92 against 116 ms a sync), hundreds of times a suite. The tests' runs go without
 * it; what the code does is the same, only the engine's tiers differ. Production keeps it.
 */
const ENGINE = { BUN_JSC_useDFGJIT: '0' }

/**
 * Exactly `env`, plus PATH, HOME, TEST_TIMING and ENGINE, as cron would run the CLI: no inherited
 * settings. `GINGR_SYNC_TEST_TIMING: undefined` in `env` runs it with production's timing.
 */
export function cleanEnv(env: Record<string, string | undefined>): Record<string, string> {
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, [TIMING_VARIABLE]: JSON.stringify(TEST_TIMING), ...ENGINE }
  return Object.fromEntries(Object.entries({ ...base, ...env }).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

async function runClean(command: string[], env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<RunResult> {
  const proc = Bun.spawn(command, { env: cleanEnv(env), stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** The compiled binary, as cron runs it. */
export async function runBinary(
  args: string[],
  env: Record<string, string | undefined>,
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  return runClean([await binary(), ...args], env, options.timeoutMs)
}

/** The CLI from source (no build), for tests of commands whose binary form the e2e tests cover. */
export function runSource(args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  return runClean([process.execPath, 'run', resolve(import.meta.dir, '../src/cli.ts'), ...args], env)
}
