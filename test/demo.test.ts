/**
 * `bun run demo` as a newcomer runs it: a process of its own, nothing set up. It must do the real
 * job, say so, and leave nothing behind (no file in the repository, no data directory, no
 * database), also when interrupted or when it fails.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connect } from '../src/db/connect.ts'
import { DEMO_DATABASE_PREFIX } from '../src/demo/database.ts'
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.ts'
import { TIMING_VARIABLE } from '../src/timing.ts'
import { TEST_TIMING } from './_binary.ts'
import { serverUrl } from './_db.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const ROOT = resolve(import.meta.dir, '..')
const DEMO_LIMIT_MS = 120_000
/** What an operator's shell might hold: the demo must never use it (nothing listens there). */
const PRODUCTION_URL = 'postgres://tailtown:prod-Secret-4411@192.0.2.1:5432/tailtown'

interface DemoRun {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

/**
 * Its own process group, as a terminal would make it, so that a Ctrl-C can reach every process of
 * the demo at once (its CLI runs and the embedded server included). NO_COLOR: plain text to match.
 */
function runDemo(env: Record<string, string> = {}, interruptWhen?: { seen: string; signal: NodeJS.Signals }): Promise<DemoRun> {
  const child = spawn(process.execPath, ['run', 'demo'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NO_COLOR: '1',
      DATABASE_URL: PRODUCTION_URL,
      // No pause between Gingr requests: the simulator needs none (the README's demo keeps production's).
      [TIMING_VARIABLE]: JSON.stringify(TEST_TIMING),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  let interrupted = false
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
    if (interruptWhen && !interrupted && output.includes(interruptWhen.seen)) {
      interrupted = true
      process.kill(-child.pid!, interruptWhen.signal)
    }
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  const limit = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), DEMO_LIMIT_MS)
  return new Promise((done) =>
    child.on('close', (code, signal) => {
      clearTimeout(limit)
      done({ code, signal, output })
    }),
  )
}

/**
 * Paths `git status` lists, untracked files one by one. TypeScript files are left out: in a working
 * tree shared with people at work, a new source file may appear during the run, and the demo
 * writes none.
 */
function repositoryPaths(): Set<string> {
  const status = Bun.spawnSync(['git', 'status', '--porcelain', '--untracked-files=all'], { cwd: ROOT })
  return new Set(
    status.stdout
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3))
      .filter((path) => !path.endsWith('.ts')),
  )
}

const scratch = mkdtempSync(join(tmpdir(), 'gingr-sync-demo-test-'))
// The demos' own temporary folders: as root, the embedded server's user must pass through them.
chmodSync(scratch, 0o755)
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
let runs = 0

/**
 * Runs `body` with a temporary folder of its own (the demo's TMPDIR), so that demos can run side by
 * side, and returns the repository paths that appeared meanwhile and what is left in that folder.
 */
async function leftoversOf<T>(body: (tmp: string) => Promise<T>): Promise<{ result: T; files: string[]; dirs: string[] }> {
  const tmp = join(scratch, `run-${++runs}`)
  mkdirSync(tmp, { mode: 0o755 })
  chmodSync(tmp, 0o755)
  const filesBefore = repositoryPaths()
  const result = await body(tmp)
  return {
    result,
    files: [...repositoryPaths()].filter((path) => !filesBefore.has(path)),
    dirs: readdirSync(tmp),
  }
}

// Each demo is a process of its own with its own server and folder: they run side by side.
describe.concurrent('bun run demo', () => {
  test(
    'does the real job on an embedded PostgreSQL, ignores DATABASE_URL, exits 0 and leaves nothing',
    async () => {
      const { result, files, dirs } = await leftoversOf((tmp) => runDemo({ TMPDIR: tmp }))
      expect(result.output).not.toContain('❌')
      expect(result.code).toBe(0)
      const out = result.output
      for (const step of [1, 2, 3, 4, 5]) expect(out).toContain(`Step ${step}/5: `)
      expect(out).toContain('an embedded PostgreSQL')
      expect(out).toContain('Created 14 database objects')
      // The CLI's own block, through the CLI's own entry, three times.
      expect(out.match(/🔄 Starting Incremental Gingr Sync/g)).toHaveLength(3)
      expect(out).toContain('Tenant: Denver Dog Ranch (')
      expect(out.match(/✅ Sync complete in \d+\.\ds/g)).toHaveLength(3)
      const [, created] = /✅ Reservations: (\d+) created, 0 updated, 0 unchanged, 0 skipped, 0 errors/.exec(out) ?? []
      expect(Number(created)).toBeGreaterThan(100)
      expect(out).toContain(`✅ Reservations: 1 created, 3 updated, ${Number(created) - 3} unchanged, 0 skipped, 0 errors`)
      expect(out).toContain(`✅ Reservations: 0 created, 0 updated, ${Number(created) + 1} unchanged, 0 skipped, 0 errors`)
      for (const change of ['New booking: ', 'Checked in early', 'Cancelled: ', 'Moved one day later: ']) expect(out).toContain(change)
      expect(out).toMatch(/✓ Denver Dog Ranch \(.+\) · enabled · last sync .+ 0 min ago/)
      expect(out).toMatch(/✅ Demo complete in \d+\.\d s: \d+ reservations synced, 4 changes applied/)
      expect(out).not.toContain('prod-Secret-4411')
      expect(files).toEqual([])
      expect(dirs).toEqual([])
    },
    DEMO_LIMIT_MS + 10_000,
  )

  test(
    'with DEMO_DATABASE_URL, works in a database of its own there and drops it, password unseen',
    async () => {
      const given = await serverUrl()
      const { result, dirs } = await leftoversOf((tmp) => runDemo({ TMPDIR: tmp, DEMO_DATABASE_URL: given }))
      expect(result.output).not.toContain('❌')
      expect(result.code).toBe(0)
      expect(result.output).toContain('(DEMO_DATABASE_URL)')
      expect(result.output).toContain('✅ Demo complete in')
      const password = decodeURIComponent(new URL(given).password)
      if (password) expect(result.output).not.toContain(password)
      const [, name] = new RegExp(`database (${DEMO_DATABASE_PREFIX}[0-9a-f]+)`).exec(result.output) ?? []
      expect(name).toBeDefined()
      const admin = connect(given, { max: 1 })
      try {
        expect(await admin`SELECT datname FROM pg_database WHERE datname = ${name!}`).toHaveLength(0)
      } finally {
        await admin.end({ timeout: 5 })
      }
      expect(dirs).toEqual([])
    },
    DEMO_LIMIT_MS + 10_000,
  )

  test.each([
    { signal: 'SIGINT', code: 130, seen: 'Step 2/5' },
    { signal: 'SIGINT', code: 130, seen: 'Gingr: a simulator' },
    { signal: 'SIGTERM', code: 143, seen: 'Step 3/5' },
  ] as const)(
    '$signal to the whole process group after "$seen" exits $code and leaves nothing',
    async ({ signal, code, seen }) => {
      const { result, files, dirs } = await leftoversOf((tmp) => runDemo({ TMPDIR: tmp }, { seen, signal }))
      expect(result.output).toContain(`${signal}: stopping the demo and cleaning up`)
      expect(result.output).not.toContain('✅ Demo complete')
      expect(result.code).toBe(code)
      expect(files).toEqual([])
      expect(dirs).toEqual([])
    },
    DEMO_LIMIT_MS + 10_000,
  )

  test(
    'a database it cannot reach fails in one sentence, exit 1',
    async () => {
      const { result, dirs } = await leftoversOf((tmp) =>
        runDemo({ TMPDIR: tmp, DEMO_DATABASE_URL: 'postgres://postgres:pw-Secret-77@127.0.0.1:1/postgres' }),
      )
      expect(result.code).toBe(1)
      expect(result.output).toContain('❌ The demo failed: DEMO_DATABASE_URL: PostgreSQL at 127.0.0.1:1/postgres refused the connection')
      expect(result.output).not.toContain('pw-Secret-77')
      expect(dirs).toEqual([])
    },
    DEMO_LIMIT_MS + 10_000,
  )
})

describe("the demo's embedded server", () => {
  // Ctrl-C signals the server as well; the demo's clean-up may reach stop() after it is gone.
  test('stop() ends and removes the data directory when the server has already shut down', async () => {
    const prefix = `gingr-sync-stoptest-${process.pid}-`
    const server = await startEmbeddedPostgres({ prefix })
    const [dir] = readdirSync(tmpdir())
      .filter((name) => name.startsWith(prefix))
      .map((name) => join(tmpdir(), name))
    const pidFile = join(dir!, 'data', 'postmaster.pid')
    process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT')
    for (let waited = 0; existsSync(pidFile) && waited < 20_000; waited += 50) await Bun.sleep(50)
    expect(existsSync(pidFile)).toBe(false)
    // Long enough for the process's exit to be reported before stop() is called.
    await Bun.sleep(100)
    await server.stop()
    expect(existsSync(dir!)).toBe(false)
  }, 30_000)
})
