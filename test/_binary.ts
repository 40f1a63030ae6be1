import { resolve } from 'node:path'

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

/** Runs a command with exactly `env` (plus PATH and HOME), as cron would: no inherited settings. */
async function runClean(command: string[], env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<RunResult> {
  const clean = Object.fromEntries(Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...env })
    .filter((entry): entry is [string, string] => entry[1] !== undefined))
  const proc = Bun.spawn(command, { env: clean, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** The compiled binary, as cron runs it. */
export async function runBinary(args: string[], env: Record<string, string | undefined>, options: { timeoutMs?: number } = {}): Promise<RunResult> {
  return runClean([await binary(), ...args], env, options.timeoutMs)
}

/** The CLI from source (no build), for tests of commands whose binary form the e2e tests cover. */
export function runSource(args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  return runClean([process.execPath, 'run', resolve(import.meta.dir, '../src/cli.ts'), ...args], env)
}
