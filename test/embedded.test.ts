/**
 * The embedded PostgreSQL that the demo, the tests and the benchmarks start when no server is
 * given: it must run as root from a private (mode 700) checkout, and every way its start can fail
 * must end at once with one sentence, leaving nothing behind. Each child process here gets a
 * temporary folder of its own (TMPDIR), so "nothing left" is a folder that is empty again, and
 * the tests, each with its own processes and folders, run side by side.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connect } from '../src/db/connect.ts'
import { BIN_DIR_VARIABLE, EmbeddedStartError, startEmbeddedPostgres } from '../src/dev/embedded-postgres.ts'
import { serverUrl } from './_db.ts'

setDefaultTimeout(60_000)

const ROOT = resolve(import.meta.dir, '..')
const isRoot = process.getuid?.() === 0
/** Every failure must end this fast: "within seconds". */
const FAIL_FAST_MS = 10_000
/** A signal must end the demo or the suite within this, set-up included. */
const SIGNAL_LIMIT_MS = 10_000

const scratch = mkdtempSync(join(tmpdir(), 'gingr-sync-embedded-test-'))
// The folders handed to children as TMPDIR: as root, the server's user must pass through them.
chmodSync(scratch, 0o755)
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

let folders = 0
function freshFolder(name: string): string {
  const folder = join(scratch, `${name}-${++folders}`)
  mkdirSync(folder, { mode: 0o755 })
  chmodSync(folder, 0o755)
  return folder
}

/** A folder of binaries that fail in one way; `initdb`/`postgres` are shell scripts or missing. */
function binaries(scripts: { initdb?: string; postgres?: string; mode?: number }): string {
  const bin = join(freshFolder('bin'), 'bin')
  mkdirSync(bin)
  for (const name of ['initdb', 'postgres'] as const) {
    const script = scripts[name]
    if (script !== undefined) writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`, { mode: scripts.mode ?? 0o755 })
  }
  return bin
}

/** Processes whose command line names `folder`: a server (or initdb) left running there. */
function processesIn(folder: string): string[] {
  const found = spawnSync('pgrep', ['-a', '-f', folder], { encoding: 'utf8' })
  return found.stdout.split('\n').filter((line) => line.trim() !== '' && !line.includes('pgrep'))
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
  ms: number
}

/**
 * Runs a command in its own process group (as a terminal makes one) with a clean environment and
 * `tmp` as its TMPDIR; with `interrupt`, sends that signal to the group once `tmp` holds a folder
 * (the embedded server's, while it is being set up).
 */
function run(command: string[], tmp: string, env: Record<string, string> = {}, interrupt?: NodeJS.Signals): Promise<Run> {
  const started = performance.now()
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', TMPDIR: tmp, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  let watcher: ReturnType<typeof setInterval> | undefined
  let signalledAt = 0
  if (interrupt) {
    watcher = setInterval(() => {
      if (readdirSync(tmp).length === 0) return
      clearInterval(watcher)
      signalledAt = performance.now()
      process.kill(-child.pid!, interrupt)
    }, 5)
  }
  const limit = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 50_000)
  return new Promise((done) =>
    child.on('close', (code, signal) => {
      clearTimeout(limit)
      clearInterval(watcher)
      const ms = performance.now() - (signalledAt || started)
      done({ code, signal, output, ms })
    }),
  )
}

/** A command run to its end without blocking the event loop; at most 50 s. */
async function exec(
  command: string[],
  options: { cwd?: string; env?: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(command, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), 50_000)
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  clearTimeout(timer)
  return { code, stdout, stderr }
}

const demo = ['bun', 'run', 'demo']
/** The quickest test file: what matters is the preload's set-up, not the tests. */
const suite = ['bun', 'test', 'test/gingr-chunks.test.ts']

describe.concurrent('a start that fails says what failed, at once, and leaves nothing', () => {
  const cases: Array<[string, () => string, RegExp]> = [
    [
      'binaries that cannot be executed',
      () => binaries({ initdb: 'exit 0', postgres: 'exit 0', mode: 0o644 }),
      /initdb could not be run \(EACCES\); .*run `bun install` again/,
    ],
    [
      'binaries that are missing',
      () => binaries({}),
      /initdb could not be run \(ENOENT\); its binaries are missing; run `bun install` again/,
    ],
    [
      'initdb failing (a full disk)',
      () =>
        binaries({ initdb: 'echo "initdb: error: could not create directory: No space left on device" >&2; exit 1', postgres: 'exit 0' }),
      /initdb failed \(exit code 1\): initdb: error: could not create directory: No space left on device/,
    ],
    [
      'a server that stops at once (the port taken)',
      () => binaries({ initdb: 'exit 0', postgres: 'echo "FATAL:  could not create any TCP/IP sockets" >&2; exit 1' }),
      /the server stopped at once \(exit code 1\): FATAL: could not create any TCP\/IP sockets/,
    ],
  ]
  for (const [name, make, sentence] of cases) {
    test(`${name}: startEmbeddedPostgres rejects with one sentence`, async () => {
      const prefix = `gingr-sync-embedded-case-${process.pid}-${folders}-`
      const started = performance.now()
      const error = await startEmbeddedPostgres({ binDir: make(), prefix }).then(
        () => undefined,
        (reason: unknown) => reason,
      )
      expect(performance.now() - started).toBeLessThan(FAIL_FAST_MS)
      expect(error).toBeInstanceOf(EmbeddedStartError)
      const message = (error as Error).message
      expect(message).toStartWith('The embedded PostgreSQL did not start: ')
      expect(message).toMatch(sentence)
      expect(message).not.toContain('\n')
      const left = [tmpdir(), '/tmp'].flatMap((folder) => readdirSync(folder).filter((entry) => entry.startsWith(prefix)))
      expect(left).toEqual([])
    })
  }

  test('the demo exits 1 within seconds with the sentence, nothing left in its temporary folder', async () => {
    const tmp = freshFolder('demo-tmp')
    const result = await run(demo, tmp, { [BIN_DIR_VARIABLE]: binaries({ initdb: 'exit 0', mode: 0o644 }) })
    expect(result.code).toBe(1)
    expect(result.ms).toBeLessThan(FAIL_FAST_MS)
    expect(result.output).toContain('❌ The demo failed: The embedded PostgreSQL did not start: ')
    expect(result.output).toMatch(/initdb could not be run \(EACCES\)/)
    expect(result.output).not.toContain('    at ')
    expect(readdirSync(tmp)).toEqual([])
  })

  test('bun test fails within seconds with the sentence, before any test, nothing left', async () => {
    const tmp = freshFolder('suite-tmp')
    const result = await run(suite, tmp, { [BIN_DIR_VARIABLE]: binaries({ initdb: 'exit 0', mode: 0o644 }) })
    expect(result.code).toBe(1)
    expect(result.ms).toBeLessThan(FAIL_FAST_MS)
    expect(result.output).toContain('The tests cannot run: The embedded PostgreSQL did not start: ')
    expect(result.output).toMatch(/initdb could not be run \(EACCES\)/)
    expect(result.output).not.toContain('Unhandled error')
    expect(result.output).not.toMatch(/\d+ pass/)
    expect(readdirSync(tmp)).toEqual([])
  })
})

describe.concurrent('a signal during the set-up ends the run within 10 s and leaves no server, folder or database', () => {
  for (const [name, command] of [
    ['the demo', demo],
    ['bun test', suite],
  ] as const) {
    for (const [signal, exitCode] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      test(`${name}, ${signal} while the embedded server is being set up: exit ${exitCode}`, async () => {
        const tmp = freshFolder('signal-tmp')
        const result = await run([...command], tmp, {}, signal)
        expect(result.signal === null ? result.code : result.signal).toBe(exitCode)
        expect(result.ms).toBeLessThan(SIGNAL_LIMIT_MS)
        expect(readdirSync(tmp)).toEqual([])
        expect(processesIn(tmp)).toEqual([])
      })
    }
  }
})

describe.concurrent('as root, from a checkout in a private folder', () => {
  // Skipped when not root: then the server runs as the same user, and a private folder is no
  // obstacle. As root it runs as another user, who cannot pass through a mode-700 folder.
  test.skipIf(!isRoot)('(root only) a fresh clone in a mode-700 folder installs and runs the demo, leaving nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gingr-sync-private-'))
    try {
      chmodSync(home, 0o700)
      const clone = join(home, 'gingr-sync')
      // Never spawnSync here: the tests beside this one watch their children from the event loop.
      const cloned = await exec(['git', 'clone', '--quiet', ROOT, clone], {})
      expect(cloned.stderr).toBe('')
      expect((await exec(['bun', 'install', '--frozen-lockfile'], { cwd: clone })).code).toBe(0)
      const tmp = freshFolder('private-tmp')
      const child = await exec(['bun', 'run', 'demo'], {
        cwd: clone,
        env: { PATH: process.env.PATH ?? '', HOME: home, TERM: 'dumb', NO_COLOR: '1', TMPDIR: tmp },
      })
      expect(child.stderr).not.toContain('EACCES')
      expect(child.stdout).toContain('✅ Demo complete')
      expect(child.code).toBe(0)
      expect(readdirSync(tmp)).toEqual([])
      expect(processesIn(clone)).toEqual([])
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})

describe.concurrent('which server the tests use', () => {
  test('DATABASE_URL alone (an operator may have exported production) is never used: an embedded server is', async () => {
    const tmp = freshFolder('production-tmp')
    // Nothing listens at this documentation address: a run that used it would fail.
    const result = await run(suite, tmp, { DATABASE_URL: 'postgres://tailtown:prod-Secret-4411@192.0.2.1:5432/tailtown' })
    expect(result.output).toMatch(/\d+ pass/)
    expect(result.code).toBe(0)
    expect(result.output).not.toContain('prod-Secret-4411')
    expect(readdirSync(tmp)).toEqual([])
  })

  test('a TEST_DATABASE_URL whose role may not create databases is one sentence, before any test', async () => {
    const admin = connect(await serverUrl(), { max: 1 })
    const role = `gingr_sync_nocreatedb_${process.pid}`
    try {
      await admin.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD 'role-Secret-93'`)
      const url = new URL(await serverUrl())
      ;[url.username, url.password] = [role, 'role-Secret-93']
      const result = await run(suite, freshFolder('nocreatedb-tmp'), { TEST_DATABASE_URL: url.toString() })
      expect(result.code).toBe(1)
      expect(result.output).toContain(`The tests cannot run: TEST_DATABASE_URL (postgres://${role}:***@`)
      expect(result.output).toContain('names a role that may not create databases')
      expect(result.output).not.toContain('role-Secret-93')
      expect(result.output).not.toMatch(/\d+ pass/)
    } finally {
      await admin.unsafe(`DROP ROLE IF EXISTS ${role}`)
      await admin.end()
    }
  })
})

describe("the server's own output", () => {
  // bun test stops reading a pipe its preload opened (where the suite's server starts): a server
  // logging into one blocked every process that logged, a checkpoint's line included, for good.
  test('goes to a file, so that a server logging megabytes never waits on a reader', async () => {
    const admin = connect(await serverUrl(), { max: 1 })
    try {
      // LOG lines reach the server's log, not this client: 2 MB, more than any pipe holds.
      await admin.unsafe(`DO $$ BEGIN FOR i IN 1..20000 LOOP RAISE LOG 'flood %', repeat('x', 100); END LOOP; END $$`)
      await admin.unsafe('CHECKPOINT')
      expect([...(await admin`SELECT 1 AS n`)]).toEqual([{ n: 1 }])
    } finally {
      await admin.end({ timeout: 5 })
    }
  }, 20_000)
})
