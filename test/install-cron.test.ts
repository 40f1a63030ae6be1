/**
 * install-cron.sh, run for real in a sandbox (see test/fixtures/bin-stubs/install-cron-sandbox.ts):
 * crontab and systemctl are stand-ins first on PATH, the binary is a stand-in shell script, and
 * every system path points into a temp dir.
 *
 * The cases run side by side (describe.concurrent), each in a sandbox of its own (a folder, its
 * stand-ins' crontabs and call log, its locks), so that the script's runs use every core and fill
 * each other's waits. The one thing they share is the throwaway user: the cases that install into
 * its home run alone, at the end of the file.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import type { Subprocess } from 'bun'
import { startSimulator } from '../src/simulator/index.ts'
import { TIMING_VARIABLE } from '../src/timing.ts'
import { binary, TEST_TIMING } from './_binary.ts'
import { migratedDatabase } from './_db.ts'
import { testDir } from './_tmp.ts'
import {
  CRON_MARKER,
  createInstallSandbox,
  cronCommandOf,
  FULL_CRON_MARKER,
  type InstallSandbox,
  idOf,
  runCommand,
  snapshotTree,
  throwawayUser,
} from './fixtures/bin-stubs/install-cron-sandbox.ts'
import { insertTenant } from './fixtures/tailtown.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const STUB_BINARY = join(import.meta.dir, 'fixtures/bin-stubs/gingr-sync')

/** Each case's own machine; all are removed after the file's tests (see the sandbox's file). */
const sandbox = createInstallSandbox
/** The stand-in builds and the release folders that ./build.sh makes: removed after the file's tests. */
const buildsRoot = testDir('install-cron')

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8)
const ownerOf = (path: string): string => `${statSync(path).uid}:${statSync(path).gid}`

/** Tests that install for a user other than root need root, setpriv and useradd. */
const canMakeUser = process.getuid?.() === 0 && Bun.which('setpriv') !== null && Bun.which('useradd') !== null
/** The unprivileged user those tests install for (made once, on first use; see throwawayUser). */
let madeJobUser: { name: string; home: string; ids: string } | undefined
function jobUser(): { name: string; home: string; ids: string } {
  if (madeJobUser !== undefined) return madeJobUser
  const user = throwawayUser()
  if (user === null) throw new Error('no throwaway user: the test should have been skipped')
  madeJobUser = { ...user, ids: `${idOf(user.name, '-u')}:${idOf(user.name, '-g')}` }
  return madeJobUser
}

/**
 * Holds `lock` as a run still going would, until the holder is killed. flock --no-fork makes the
 * shell, then the sleep it becomes, hold the lock itself, so that killing it frees the lock; the
 * shell says so once it holds it, which is what this waits for.
 */
async function holdLock(lock: string): Promise<Subprocess> {
  const holder = Bun.spawn(['flock', '--no-fork', lock, 'sh', '-c', 'echo held && exec sleep 60'], { stdout: 'pipe', stderr: 'ignore' })
  const reader = holder.stdout.getReader()
  const { value } = await reader.read()
  reader.releaseLock()
  if (new TextDecoder().decode(value) !== 'held\n') throw new Error(`flock did not take ${lock}`)
  return holder
}

/**
 * Every setting the binary reads, found in src/ as GINGR_* and DATABASE_URL are written there, less
 * the names that are code (a const of that name) and the knobs that are not the binary's settings.
 */
const NOT_SETTINGS: Record<string, string> = {
  GINGR_SYNC_TEST_TIMING: 'the tests shorten the waits with it (src/timing.ts)',
  GINGR_SYNC_EMBEDDED_PG_BIN: "the demo's and tests' embedded server (src/dev/)",
}
function settingsTheBinaryReads(): string[] {
  const src = join(import.meta.dir, '../src')
  const code = [...new Bun.Glob('**/*.ts').scanSync(src)].map((path) => readFileSync(join(src, path), 'utf8')).join('\n')
  const named = new Set([...code.matchAll(/\b(?:GINGR_[A-Z_]+|DATABASE_URL)\b/g)].map((match) => match[0]))
  const declared = new Set([...code.matchAll(/\b(?:const|let|var|function|class|enum|type|interface)\s+([A-Z_]+)\b/g)].map((m) => m[1]))
  const settings = [...named].filter((name) => !declared.has(name) && !(name in NOT_SETTINGS)).sort()
  // A derivation that found nothing would let every template pass: it must find the known ones.
  for (const known of ['DATABASE_URL', 'GINGR_API_KEY', 'GINGR_SYNC_STATEMENT_TIMEOUT']) expect(settings).toContain(known)
  return settings
}

/** The name install-cron.sh looks for beside itself on this machine, as the README says. */
const THIS_MACHINES_BUILD = (() => {
  const arch = Bun.spawnSync(['uname', '-m']).stdout.toString().trim()
  if (arch === 'aarch64' || arch === 'arm64') return 'gingr-sync-linux-arm64'
  return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'gingr-sync-linux-x64' : 'gingr-sync-linux-x64-baseline'
})()
const RELEASE_BUILDS = ['gingr-sync-linux-x64', 'gingr-sync-linux-x64-baseline', 'gingr-sync-linux-arm64', 'gingr-sync']

/** Stand-in binaries that differ by a comment, one per name of a release's builds, in a temp folder. */
const builds = (() => {
  const folder = mkdtempSync(join(buildsRoot.path, 'builds-'))
  const stub = readFileSync(STUB_BINARY, 'utf8')
  const files: Record<string, string> = {}
  for (const name of RELEASE_BUILDS) {
    files[name] = join(folder, name)
    writeFileSync(files[name], `${stub}# the build named ${name}\n`, { mode: 0o755 })
  }
  return { folder, files }
})()
function buildNamed(name: string): string {
  const file = builds.files[name]
  if (file === undefined) throw new Error(`no stand-in build named ${name}`)
  return file
}
const sha256 = (path: string): string => new Bun.CryptoHasher('sha256').update(readFileSync(path)).digest('hex')
const sumsOf = (names: string[]): string => names.map((name) => `${sha256(buildNamed(name))}  ${name}\n`).join('')
/** The lines of a crontab that end with `marker`: the hourly sync's entries by default. */
const managedLines = (table: string | null, marker = CRON_MARKER): string[] =>
  (table ?? '').split('\n').filter((line) => line.endsWith(marker))
/** Either entry: the hourly sync's or the full sync's. */
const isManaged = (line: string): boolean => line.endsWith(CRON_MARKER) || line.endsWith(FULL_CRON_MARKER)

/** A table with everything cron allows besides entries; each byte must survive. */
const BUSY_TABLE = [
  '# m h  dom mon dow   command',
  'MAILTO=ops@example.com',
  'SHELL=/bin/bash',
  '',
  '*/5 * * * *\t/usr/bin/backup --quiet  # trailing comment  ',
  '   ',
  '@reboot echo "started at $(date +\\%F)" >> /tmp/boot.log',
  '',
].join('\n')

// The longest case first (it builds the binary and starts a simulator), so that the others run
// in its waits.
test.concurrent('the installed cron line, run by sh -c, syncs the simulator into PostgreSQL with the real binary', async () => {
  const sim = await startSimulator({ seed: 41, reservations: 80, owners: 30, animals: 40 })
  const db = await migratedDatabase()
  // Two copies of the real binary: removed at the end of this case, not of the file.
  let box: InstallSandbox | undefined
  try {
    await insertTenant(db.sql, { id: 'cron-tenant', businessName: 'Cron Kennels', timezone: 'America/Denver' })
    box = sandbox({ dist: await binary() })
    const metrics = join(box.dir, 'gingr_sync.prom')
    const installed = await box.install(['--metrics-file', metrics])
    expect(installed.exitCode).toBe(0)
    writeFileSync(
      box.paths.envFile,
      [`DATABASE_URL=${db.url}`, 'GINGR_SUBDOMAIN=cron-kennels', `GINGR_API_KEY=${sim.apiKey}`, `GINGR_BASE_URL=${sim.baseUrl}`, ''].join(
        '\n',
      ),
      { mode: 0o600 },
    )

    // Cron's bare environment, and the tests' timing: no pause of 150 ms between two requests to
    // Gingr (e2e.test.ts runs the binary with production's). The binary's work happens in another
    // process: run cron's line without blocking the simulator.
    const cronEnv = { PATH: '/usr/bin:/bin', HOME: box.dir, [TIMING_VARIABLE]: JSON.stringify(TEST_TIMING) }
    const proc = Bun.spawn(['sh', '-c', box.cronCommand()], { env: cronEnv, cwd: box.dir })
    expect(await proc.exited).toBe(0)

    // Then the full sync's line: every owner becomes a customer, its output appended to the same log.
    const full = Bun.spawn(['sh', '-c', box.cronCommand('root', FULL_CRON_MARKER)], { env: cronEnv, cwd: box.dir })
    expect(await full.exited).toBe(0)

    const log = readFileSync(box.paths.log, 'utf8')
    const lines = log.trim().split('\n')
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) /)
    expect(log).toContain('Tenant: Cron Kennels (cron-tenant)')
    expect(log.indexOf('✅ Sync complete')).toBeGreaterThan(0)
    expect(log.indexOf('✅ Full sync complete')).toBeGreaterThan(log.indexOf('✅ Sync complete'))
    expect(log).not.toContain(sim.apiKey)
    const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM reservations WHERE "tenantId" = 'cron-tenant'`
    expect(row?.n).toBeGreaterThan(0)
    const [customers] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM customers WHERE "tenantId" = 'cron-tenant'`
    expect(customers?.n).toBe(30)
    expect(readFileSync(box.paths.crontab, 'utf8')).not.toContain(sim.apiKey)
    // The hourly line wrote the run's metrics for node_exporter.
    expect(readFileSync(metrics, 'utf8')).toMatch(/^gingr_sync_last_success_timestamp_seconds\{tenant="cron-tenant"\} \d+/m)
  } finally {
    box?.remove()
    await sim.stop()
    await db.drop()
  }
})

describe.concurrent('install (cron)', () => {
  test('installs two entries, the hourly sync and the Sunday 02:00 full sync: schedule, flock -n on a lock of each, a hard time limit, the binary with --env-file, output appended to the one log', async () => {
    const s = sandbox()
    const result = await s.install()
    expect(result.exitCode).toBe(0)

    const table = (s.crontab() ?? '').split('\n')
    expect(table.filter(isManaged)).toHaveLength(2)
    const [flock, timeout] = [Bun.which('flock'), Bun.which('timeout')]
    expect(table[0]).toBe(
      `0 * * * * '${flock}' -n -E 75 '${s.paths.lock}' '${timeout}' -k 60 3480 '${s.paths.binary}' --env-file '${s.paths.envFile}' >> '${s.paths.log}' 2>&1; ` +
        `[ $? != 75 ] || printf '\\%s WARN  \\%s\\n' "$(date -u +\\%Y-\\%m-\\%dT\\%H:\\%M:\\%SZ)" 'skipped: the previous run still holds ${s.paths.lock}' >> '${s.paths.log}' ${CRON_MARKER}`,
    )
    expect(table[1]).toBe(
      `0 2 * * 0 '${flock}' -n -E 75 '${s.paths.fullLock}' '${timeout}' -k 60 3480 '${s.paths.binary}' full --env-file '${s.paths.envFile}' >> '${s.paths.log}' 2>&1; ` +
        `[ $? != 75 ] || printf '\\%s WARN  \\%s\\n' "$(date -u +\\%Y-\\%m-\\%dT\\%H:\\%M:\\%SZ)" 'skipped: the previous full sync still holds ${s.paths.fullLock}' >> '${s.paths.log}' ${FULL_CRON_MARKER}`,
    )
    expect(result.stdout).toContain(`crontab: install the entry: ${table[0]}\n`)
    expect(result.stdout).toContain(`crontab: install the full sync's entry: ${table[1]}\n`)
    expect(s.calls()).toContain(`gingr-sync doctor --env-file ${s.paths.envFile}`)
    for (const hint of ['crontab -l', `tail -f ${s.paths.log}`, `${s.paths.binary} status --env-file ${s.paths.envFile}`]) {
      expect(result.stdout).toContain(hint)
    }
    expect(existsSync(s.paths.log)).toBe(true)
    // Root's own crontab: allowed, with the advice to give the job a user of its own.
    expect(result.stderr).toContain('warning: the job will run as root.')
    expect(result.stderr).toContain('then sudo ./install-cron.sh --user gingr-sync')
  })

  test.each([
    ['no crontab at all', null],
    ['an empty crontab', ''],
    ['a busy crontab', BUSY_TABLE],
    ['a crontab with an entry of its own at the end', '0 3 * * * /usr/local/bin/other-job\n'],
  ])(
    'with %s: two installs leave one entry of each, other lines byte for byte, and --uninstall restores it exactly',
    async (_name, table) => {
      const s = sandbox()
      if (table !== null) writeFileSync(s.paths.crontab, table)

      expect((await s.install()).exitCode).toBe(0)
      const first = s.crontab()
      const again = await s.install()
      expect(again.exitCode).toBe(0)
      expect(s.crontab()).toBe(first)
      expect(again.stdout).toContain('crontab: the entry is already installed: ')
      expect(again.stdout).toContain("crontab: the full sync's entry is already installed: ")
      expect(managedLines(first)).toHaveLength(1)
      expect(managedLines(first, FULL_CRON_MARKER)).toHaveLength(1)
      const others = (first ?? '').split('\n').filter((line) => !isManaged(line))
      expect(others.join('\n')).toBe(table ?? '')

      expect((await s.install(['--uninstall'])).exitCode).toBe(0)
      expect(s.crontab()).toBe(table === '' ? null : table)
    },
  )

  test('a new --schedule replaces the entry where it stands', async () => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    await s.install()
    const before = s.crontab() ?? ''
    writeFileSync(s.paths.crontab, `${before}# added after the install\n`)

    expect((await s.install(['--schedule', '*/15 6-20 * * 1-5'])).exitCode).toBe(0)
    const after = s.crontab() ?? ''
    const [entry] = managedLines(after)
    expect(entry?.startsWith(`*/15 6-20 * * 1-5 '`)).toBe(true)
    expect(after.replace(entry ?? '', managedLines(before)[0] ?? '')).toBe(`${before}# added after the install\n`)
  })

  test('an @macro schedule is kept as it is', async () => {
    const s = sandbox()
    expect((await s.install(['--schedule', '@daily'])).exitCode).toBe(0)
    expect(managedLines(s.crontab())[0]?.startsWith(`@daily '`)).toBe(true)
  })

  test('the installed line runs under sh -c with paths that need quoting, and flock keeps runs from overlapping', async () => {
    const s = sandbox({ machineName: `it's 100% a "machine" $HOME` })
    expect((await s.install()).exitCode).toBe(0)

    const first = await s.runCronCommand()
    expect(first.exitCode).toBe(0)
    expect(readFileSync(s.paths.log, 'utf8')).toBe(`stand-in gingr-sync: --env-file ${s.paths.envFile}\n`)
    expect(existsSync(s.paths.lock)).toBe(true)

    const holder = await holdLock(s.paths.lock)
    try {
      // The run that finds the lock held does not run, and says so in one line of the log.
      await s.runCronCommand()
      const lines = readFileSync(s.paths.log, 'utf8').split('\n')
      expect(lines[0]).toBe(`stand-in gingr-sync: --env-file ${s.paths.envFile}`)
      expect(lines[1]).toMatch(
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ WARN  skipped: the previous run still holds ${RegExp.escape(s.paths.lock)}$`,
        ),
      )
      expect(lines.slice(2)).toEqual([''])
    } finally {
      holder.kill()
      await holder.exited
    }
  })

  test('relative paths become absolute: cron runs in the home directory', async () => {
    const s = sandbox()
    const result = await s.run([
      '--binary',
      s.paths.binary,
      '--env-file',
      'machine/my.env',
      '--log',
      'machine/sync.log',
      '--lock',
      s.paths.lock,
    ])
    expect(result.exitCode).toBe(0)
    expect(s.cronCommand()).toContain(`--env-file '${join(s.dir, 'machine/my.env')}' >> '${join(s.dir, 'machine/sync.log')}'`)
  })
})

describe.concurrent('the weekly full sync', () => {
  const fullEntry = (s: InstallSandbox): string => managedLines(s.crontab(), FULL_CRON_MARKER)[0] ?? 'no full sync entry'

  test('--full-schedule replaces only the full sync entry, where it stands; an @macro is kept as it is', async () => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    expect((await s.install()).exitCode).toBe(0)
    writeFileSync(s.paths.crontab, `${s.crontab()}# added after the install\n`)
    const before = s.crontab() ?? ''

    const result = await s.install(['--full-schedule', '30  3 * *   sat'])
    expect(result.exitCode).toBe(0)
    expect(fullEntry(s).startsWith(`30 3 * * sat '`)).toBe(true)
    expect(result.stdout).toContain(`crontab: install the full sync's entry: ${fullEntry(s)}\n`)
    expect(result.stdout).toContain('crontab: the entry is already installed: ')
    expect((s.crontab() ?? '').replace(fullEntry(s), managedLines(before, FULL_CRON_MARKER)[0] ?? '')).toBe(before)

    expect((await s.install(['--full-schedule=@weekly'])).exitCode).toBe(0)
    expect(fullEntry(s).startsWith(`@weekly '`)).toBe(true)
    expect(cronCommandOf(s.crontab() ?? '', FULL_CRON_MARKER)).toContain(`' full --env-file '${s.paths.envFile}' >> `)
  })

  test('--no-full installs only the hourly entry and removes a full sync entry installed before; without it, the entry is back', async () => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    expect((await s.install(['--no-full'])).exitCode).toBe(0)
    const hourlyOnly = s.crontab()
    expect(managedLines(hourlyOnly)).toHaveLength(1)
    expect(managedLines(hourlyOnly, FULL_CRON_MARKER)).toEqual([])

    expect((await s.install()).exitCode).toBe(0)
    expect(managedLines(s.crontab(), FULL_CRON_MARKER)).toHaveLength(1)
    const removed = await s.install(['--no-full'])
    expect(removed.exitCode).toBe(0)
    expect(removed.stdout).toContain("crontab: remove the full sync's entry\n")
    expect(s.crontab()).toBe(hourlyOnly)
    // Again: nothing to change.
    const again = await s.install(['--no-full'])
    expect(again.stdout).not.toContain('remove')
    expect(s.crontab()).toBe(hourlyOnly)
  })

  test("runs under sh -c with its own lock: a full run still going skips the next with one line, and neither job waits for the other's lock", async () => {
    const s = sandbox({ machineName: `it's 100% a "machine"` })
    expect((await s.install()).exitCode).toBe(0)
    const run = async (marker: string) => expect((await s.runCronCommand({}, marker)).exitCode).toBe(0)
    const hourly = `stand-in gingr-sync: --env-file ${s.paths.envFile}`
    const full = `stand-in gingr-sync: full --env-file ${s.paths.envFile}`

    await run(FULL_CRON_MARKER)
    expect(readFileSync(s.paths.log, 'utf8')).toBe(`${full}\n`)
    expect(existsSync(s.paths.fullLock)).toBe(true)

    for (const [held, blocked, runs] of [
      [s.paths.fullLock, FULL_CRON_MARKER, CRON_MARKER],
      [s.paths.lock, CRON_MARKER, FULL_CRON_MARKER],
    ] as const) {
      writeFileSync(s.paths.log, '')
      const holder = await holdLock(held)
      try {
        await run(blocked)
        await run(runs)
        const lines = readFileSync(s.paths.log, 'utf8').split('\n')
        const who = blocked === FULL_CRON_MARKER ? 'the previous full sync' : 'the previous run'
        expect(lines[0]).toMatch(
          new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ WARN  skipped: ${who} still holds ${RegExp.escape(held)}$`),
        )
        expect(lines.slice(1)).toEqual([runs === CRON_MARKER ? hourly : full, ''])
      } finally {
        holder.kill()
        await holder.exited
      }
    }
  })

  // A schedule's OnCalendar=, checked against cron's own meaning: systemd-analyze's next elapses
  // beside the minutes a cron expression matches, found by the reading of cron(5) in cronMatcher.
  test.each([
    ['0 2 * * 0', 'Sun *-*-* 02:00:00'],
    ['30 3 * * 6,7', 'Sun,Sat *-*-* 03:30:00'],
    ['*/20 1-5/2 */3 jan-mar,JUN mon-fri', 'Mon,Tue,Wed,Thu,Fri *-01..03,06-01/3 01..05/2:00/20:00'],
    ['0 6 */10 * */2', 'Sun,Tue,Thu,Sat *-*-01/10 06:00:00'],
    ['@weekly', 'Sun *-*-* 00:00:00'],
  ])('with --systemd, --full-schedule %p becomes OnCalendar=%s', async (schedule, calendar) => {
    const s = sandbox()
    expect((await s.install(['--systemd', '--full-schedule', schedule])).exitCode).toBe(0)
    const timer = readFileSync(join(s.machine, 'etc/systemd/system/gingr-sync-full.timer'), 'utf8')
    expect(timer).toContain(`\nOnCalendar=${calendar}\n`)
    if (Bun.which('systemd-analyze') === null) return
    const base = Date.UTC(2026, 0, 1)
    const analyzed = await runCommand(['systemd-analyze', 'calendar', '--iterations=8', `--base-time=@${base / 1000}`, calendar], {
      env: { ...process.env, TZ: 'UTC' },
    })
    expect(analyzed.exitCode).toBe(0)
    const elapses = [...analyzed.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC/g)].map((m) => `${m[1]}`)
    expect(elapses).toEqual(nextCronTimes(schedule, base, 8))
  })
})

const CRON_NAMES: Record<number, string[]> = {
  3: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  4: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
}
const CRON_MACROS: Record<string, string> = { '@weekly': '0 0 * * 0' }

/** The minutes a cron expression matches, as cron(5) says: a day matches either day field when neither starts with '*'. */
function cronMatcher(schedule: string): (at: Date) => boolean {
  const fields = (CRON_MACROS[schedule] ?? schedule).split(/\s+/)
  const [lows, highs] = [
    [0, 0, 1, 1, 0],
    [59, 23, 31, 12, 7],
  ]
  const sets = fields.map((field, i) => {
    const values = new Set<number>()
    const value = (text: string) =>
      /^\d+$/.test(text) ? Number(text) : (CRON_NAMES[i] ?? []).indexOf(text.toLowerCase()) + (i === 3 ? 1 : 0)
    for (const item of field.split(',')) {
      const [range = '', step = '1'] = item.split('/')
      const [from, to] =
        range === '*' ? [lows[i] ?? 0, highs[i] ?? 0] : range.includes('-') ? range.split('-').map(value) : [value(range), value(range)]
      for (let v = from ?? 0; v <= (to ?? 0); v += Number(step)) values.add(i === 4 ? v % 7 : v)
    }
    return values
  })
  const [minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>]
  const either = !fields[2]?.startsWith('*') && !fields[4]?.startsWith('*')
  return (at) => {
    const [day, weekday] = [days.has(at.getUTCDate()), weekdays.has(at.getUTCDay())]
    const dayMatches = either ? day || weekday : day && weekday
    return minutes.has(at.getUTCMinutes()) && hours.has(at.getUTCHours()) && months.has(at.getUTCMonth() + 1) && dayMatches
  }
}

/** The first `count` minutes after `base` that `schedule` matches, as systemd-analyze prints them (UTC). */
function nextCronTimes(schedule: string, base: number, count: number): string[] {
  const matches = cronMatcher(schedule)
  const times: string[] = []
  for (let at = base + 60_000; times.length < count && at < base + 2 * 366 * 86_400_000; at += 60_000) {
    const date = new Date(at)
    if (matches(date)) times.push(date.toISOString().slice(0, 19).replace('T', ' '))
  }
  return times
}

describe.concurrent('the env file', () => {
  test('is created from a commented template, mode 600 in a 700 directory, naming every setting the binary reads', async () => {
    const s = sandbox()
    expect((await s.install()).exitCode).toBe(0)
    expect(modeOf(s.paths.envFile)).toBe('600')
    expect(modeOf(dirname(s.paths.envFile))).toBe('700')
    const lines = readFileSync(s.paths.envFile, 'utf8').split('\n')
    for (const name of settingsTheBinaryReads()) {
      const at = lines.findIndex((line) => line.startsWith(`#${name}=`))
      expect({ name, listed: at >= 0 }).toEqual({ name, listed: true })
      // The line above says what it is for: a comment of its own, not another setting.
      expect(lines[at - 1]).toMatch(/^# (Required|Optional)[^:]*: \S.{20,}$/)
    }
    const active = lines.filter((line) => line.trim() !== '' && !line.startsWith('#'))
    expect(active).toEqual([])
  })

  test("the README's env file sample names every setting the binary reads too", () => {
    const readme = readFileSync(join(import.meta.dir, '../README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('### 3. Configure'), readme.indexOf('### 4.'))
    const sample = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
    const named = new Set([...sample.matchAll(/^#? ?([A-Z_]+)=/gm)].map((match) => match[1]))
    expect(settingsTheBinaryReads().filter((name) => !named.has(name))).toEqual([])
  })

  test.each([
    [0o600, false],
    [0o400, false],
    [0o640, true],
    [0o644, true],
    [0o604, true],
  ])('an existing one (mode %o) is never overwritten; warned about when others can read it: %p', async (mode, warned) => {
    const s = sandbox()
    mkdirSync(dirname(s.paths.envFile), { recursive: true })
    writeFileSync(s.paths.envFile, 'GINGR_API_KEY=keep-me\n')
    chmodSync(s.paths.envFile, mode)

    const result = await s.install()
    expect(result.exitCode).toBe(0)
    expect(readFileSync(s.paths.envFile, 'utf8')).toBe('GINGR_API_KEY=keep-me\n')
    expect(statSync(s.paths.envFile).mode & 0o777).toBe(mode)
    expect(result.stderr.includes('chmod 600')).toBe(warned)
  })

  test.each([[[] as string[]], [['--systemd']]])(
    'no secret from it appears in the crontab, the units, the rule or the output (%p)',
    async (extra) => {
      const s = sandbox()
      const secrets = ['s3cret-db-pass', 'gk_live_9f8e7d6c5b4a']
      mkdirSync(dirname(s.paths.envFile), { recursive: true })
      writeFileSync(
        s.paths.envFile,
        `DATABASE_URL=postgres://sync:${secrets[0]}@127.0.0.1:5432/tailtown\nGINGR_SUBDOMAIN=resort\nGINGR_API_KEY=${secrets[1]}\n`,
        { mode: 0o600 },
      )
      const result = await s.install(extra)
      expect(result.exitCode).toBe(0)

      const written = [...snapshotTree(s.machine)]
        .filter(([path]) => path !== s.paths.envFile)
        .map(([, entry]) => Buffer.from(entry.split(' ')[2] ?? '', 'base64').toString())
      for (const text of [...written, result.stdout, result.stderr, s.calls().join('\n')]) {
        for (const secret of secrets) expect(text).not.toContain(secret)
      }
    },
  )
})

describe.concurrent('--dry-run', () => {
  const installed = async (s: InstallSandbox, args: string[] = []): Promise<void> => {
    expect((await s.install(args)).exitCode).toBe(0)
  }
  test.each([
    ['install on a fresh machine', async () => {}, [] as string[]],
    ['install --systemd on a fresh machine', async () => {}, ['--systemd']],
    ['a second install', installed, []],
    ['--uninstall', installed, ['--uninstall']],
    ['--uninstall --purge', installed, ['--uninstall', '--purge']],
    ['--uninstall of the units', (s: InstallSandbox) => installed(s, ['--systemd']), ['--uninstall']],
    ['--no-full after an install', installed, ['--no-full']],
    ['a new --full-schedule', installed, ['--full-schedule', '0 4 * * 1']],
    ['--systemd --no-full after an install of the units', (s: InstallSandbox) => installed(s, ['--systemd']), ['--systemd', '--no-full']],
  ])('%s changes nothing: same files, same crontab, nothing but crontab -l called', async (_name, prepare, args) => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    await prepare(s)
    const before = snapshotTree(s.dir)
    const callsBefore = s.calls().length

    const result = await s.install([...args, '--dry-run'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('would: ')
    const after = snapshotTree(s.dir)
    // The stand-ins' own call log is the one file allowed to change: it shows what was called.
    for (const tree of [before, after]) tree.delete(s.paths.calls)
    expect(after).toEqual(before)
    for (const call of s.calls().slice(callsBefore)) expect(call).toBe('crontab -l')
  })

  test.skipIf(!canMakeUser)(
    'install --user NAME (given as a number) changes nothing either: only the crontabs of NAME and root are read',
    async () => {
      const user = jobUser()
      const s = sandbox({ dist: STUB_BINARY, installedBinary: false })
      writeFileSync(s.paths.crontab, BUSY_TABLE)
      const before = snapshotTree(s.dir)
      const result = await s.install(['--user', idOf(user.name, '-u'), '--dry-run'])
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain(`would: crontab of ${user.name}: install the entry: `)
      expect(result.stdout).toContain(`would: chown -- ${user.name}:${user.name} ${s.paths.envFile}`)
      expect(result.stdout).toContain(`would: as ${user.name} ${s.paths.binary} doctor`)
      const after = snapshotTree(s.dir)
      for (const tree of [before, after]) tree.delete(s.paths.calls)
      expect(after).toEqual(before)
      expect(s.calls()).toEqual([`crontab -u ${user.name} -l`, 'crontab -l'])
    },
  )

  test('names every action it would take', async () => {
    const s = sandbox({ dist: STUB_BINARY, installedBinary: false })
    const result = await s.install(['--dry-run'])
    expect(result.exitCode).toBe(0)
    for (const action of [
      `would: write ${s.paths.binary} (mode 755)`,
      `would: create ${s.paths.envFile} (mode 600)`,
      'would: crontab: install the entry: 0 * * * * ',
      `would: write ${join(s.machine, 'etc/logrotate.d/gingr-sync')}`,
      'doctor --env-file',
    ]) {
      expect(result.stdout).toContain(action)
    }
  })
})

describe.concurrent('the binary', () => {
  test('dist/gingr-sync beside the script is copied to --binary, mode 755, through a temp file and a rename', async () => {
    const s = sandbox({ dist: STUB_BINARY })
    mkdirSync(dirname(s.paths.binary), { recursive: true })
    writeFileSync(s.paths.binary, '#!/bin/sh\necho old build\n')

    const result = await s.install()
    expect(result.exitCode).toBe(0)
    expect(readFileSync(s.paths.binary, 'utf8')).toBe(readFileSync(STUB_BINARY, 'utf8'))
    expect(modeOf(s.paths.binary)).toBe('755')
    expect(readdirSync(dirname(s.paths.binary))).toEqual(['gingr-sync'])
    expect(s.calls()).toContain(`gingr-sync doctor --env-file ${s.paths.envFile}`)

    expect((await s.install()).stdout).toContain(`binary: ${s.paths.binary} is already ${join(s.paths.app, 'dist/gingr-sync')}\n`)
  })

  test('neither dist/ nor an installed binary: a clear error, exit 2, nothing changed', async () => {
    const s = sandbox({ installedBinary: false })
    const before = snapshotTree(s.machine)
    const result = await s.install()
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('./build.sh')
    expect(snapshotTree(s.machine)).toEqual(before)
  })
})

describe.concurrent('doctor', () => {
  test('a failing doctor is reported with what to do next, and the install stands', async () => {
    const s = sandbox()
    const result = await s.install([], { STUB_BINARY_EXIT: '1' })
    expect(result.exitCode).toBe(0)
    expect(managedLines(s.crontab())).toHaveLength(1)
    expect(result.stderr).toContain(`edit ${s.paths.envFile}, then run: ${s.paths.binary} doctor --env-file ${s.paths.envFile}`)
  })
})

describe.concurrent('logrotate', () => {
  const rulePath = (s: InstallSandbox): string => join(s.machine, 'etc/logrotate.d/gingr-sync')

  test('writes a weekly rule for the log, and --uninstall removes it', async () => {
    const s = sandbox()
    expect((await s.install()).exitCode).toBe(0)
    const rule = readFileSync(rulePath(s), 'utf8')
    expect(rule).toContain(`"${s.paths.log}" {`)
    for (const directive of ['weekly', 'rotate 8', 'compress', 'missingok', 'notifempty']) {
      expect(rule).toMatch(new RegExp(`^\\s+${directive}$`, 'm'))
    }
    expect((await s.install(['--uninstall'])).exitCode).toBe(0)
    expect(existsSync(rulePath(s))).toBe(false)
  })

  test.skipIf(Bun.which('logrotate') === null)('logrotate accepts the rule', async () => {
    const s = sandbox()
    await s.install()
    const check = await runCommand(['logrotate', '--debug', '--state', join(s.dir, 'logrotate.state'), rulePath(s)])
    expect(check.stderr).not.toMatch(/error/i)
    expect(check.exitCode).toBe(0)
  })

  test('without /etc/logrotate.d nothing is written', async () => {
    const s = sandbox({ logrotateDir: false })
    const result = await s.install()
    expect(result.exitCode).toBe(0)
    expect(existsSync(join(s.machine, 'etc/logrotate.d'))).toBe(false)
    expect(result.stdout).toContain('logrotate: no ')
  })

  test('a rule written by hand is left alone, by install and by --uninstall', async () => {
    const s = sandbox()
    writeFileSync(rulePath(s), '/var/log/gingr-sync.log { daily }\n')
    expect((await s.install()).stderr).toContain('not written by install-cron.sh')
    expect((await s.install(['--uninstall'])).exitCode).toBe(0)
    expect(readFileSync(rulePath(s), 'utf8')).toBe('/var/log/gingr-sync.log { daily }\n')
  })
})

describe.concurrent('--metrics-file', () => {
  test('the hourly entry writes the metrics there (the full sync does not), in cron and in the systemd unit', async () => {
    const s = sandbox()
    const folder = join(s.dir, 'textfile collector')
    mkdirSync(folder)
    const metrics = join(folder, 'gingr_sync.prom')
    expect((await s.install(['--metrics-file', metrics])).exitCode).toBe(0)
    const [hourly, full] = (s.crontab() ?? '').split('\n').filter(isManaged)
    expect(hourly).toContain(`'${s.paths.binary}' --metrics-file '${metrics}' --env-file '${s.paths.envFile}' >>`)
    expect(full).not.toContain('--metrics-file')

    expect((await s.install(['--systemd', '--metrics-file', metrics])).exitCode).toBe(0)
    const unit = (name: string) => readFileSync(join(s.machine, 'etc/systemd/system', name), 'utf8')
    expect(unit('gingr-sync.service')).toContain(
      `ExecStart="${s.paths.binary}" --metrics-file "${metrics}" --env-file "${s.paths.envFile}"`,
    )
    expect(unit('gingr-sync-full.service')).not.toContain('--metrics-file')
  })

  test('a folder that does not exist: one sentence, exit 2, nothing changed', async () => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    const missing = join(s.dir, 'no-such-folder')
    const result = await s.install(['--metrics-file', join(missing, 'gingr_sync.prom')])
    expect(result.exitCode).toBe(2)
    expect(result.stderr.trim()).toBe(
      `install-cron.sh: error: the folder of --metrics-file, ${missing}, does not exist: create it (node_exporter's textfile collector reads it) or choose another`,
    )
    expect(s.crontab()).toBe(BUSY_TABLE)
  })

  // gingr-sync refuses each of these before every run: installed, the job would never sync.
  test.each([
    ['a folder', (folder: string) => folder, (path: string) => `--metrics-file ${path} is a folder: give the path of the file in it`],
    [
      'a name not ending in .prom',
      (folder: string) => join(folder, 'gingr_sync.txt'),
      (path: string) => `--metrics-file ${path} does not end in .prom, and node_exporter's textfile collector reads only those`,
    ],
    [
      'a symbolic link',
      (folder: string) => {
        writeFileSync(join(folder, 'elsewhere'), '')
        symlinkSync(join(folder, 'elsewhere'), join(folder, 'gingr_sync.prom'))
        return join(folder, 'gingr_sync.prom')
      },
      (path: string) => `--metrics-file ${path} exists and is not a regular file`,
    ],
  ])('%s: one sentence, exit 2, nothing changed', async (_case, pathIn, message) => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    const folder = join(s.dir, 'textfile')
    mkdirSync(folder)
    const path = pathIn(folder)
    const before = snapshotTree(s.dir)
    const result = await s.install(['--metrics-file', path])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toStartWith(`install-cron.sh: error: ${message(path)}`)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(snapshotTree(s.dir)).toEqual(before)
  })
})

describe.concurrent('--systemd', () => {
  const unit = (s: InstallSandbox, name: string): string => join(s.machine, 'etc/systemd/system', name)

  test('writes a oneshot service and an hourly persistent timer, enables the timer, and --uninstall removes both', async () => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    const result = await s.install(['--systemd'])
    expect(result.exitCode).toBe(0)

    const service = readFileSync(unit(s, 'gingr-sync.service'), 'utf8')
    expect(service).toContain('Type=oneshot')
    expect(service).toContain(`ExecStart="${s.paths.binary}" --env-file "${s.paths.envFile}"`)
    expect(service).toContain(`StandardOutput=append:${s.paths.log}`)
    const timer = readFileSync(unit(s, 'gingr-sync.timer'), 'utf8')
    expect(timer).toContain('OnCalendar=hourly')
    expect(timer).toContain('Persistent=true')
    expect(timer).toContain('WantedBy=timers.target')
    // The full sync: a service and a timer of its own, Sunday 02:00, the same log and hard limit.
    const fullService = readFileSync(unit(s, 'gingr-sync-full.service'), 'utf8')
    expect(fullService).toContain('Type=oneshot')
    expect(fullService).toContain(`ExecStart="${s.paths.binary}" full --env-file "${s.paths.envFile}"`)
    expect(fullService).toContain(`StandardOutput=append:${s.paths.log}`)
    expect(fullService).toContain('TimeoutStartSec=3480s')
    const fullTimer = readFileSync(unit(s, 'gingr-sync-full.timer'), 'utf8')
    expect(fullTimer).toContain('OnCalendar=Sun *-*-* 02:00:00\n')
    expect(fullTimer).toContain('Persistent=true')
    expect(s.calls()).toEqual(
      expect.arrayContaining(['systemctl daemon-reload', 'systemctl enable --now gingr-sync.timer gingr-sync-full.timer']),
    )
    expect(s.crontab()).toBe(BUSY_TABLE)
    expect(result.stdout).toContain('systemctl list-timers gingr-sync.timer gingr-sync-full.timer')

    expect((await s.install(['--uninstall'])).exitCode).toBe(0)
    for (const name of ['gingr-sync.service', 'gingr-sync.timer', 'gingr-sync-full.service', 'gingr-sync-full.timer']) {
      expect({ name, exists: existsSync(unit(s, name)) }).toEqual({ name, exists: false })
    }
    expect(s.calls()).toContain('systemctl disable --now gingr-sync.timer')
    expect(s.calls()).toContain('systemctl disable --now gingr-sync-full.timer')
    expect(s.crontab()).toBe(BUSY_TABLE)
  })

  test.skipIf(Bun.which('systemd-analyze') === null)('systemd-analyze accepts the units, even with paths that need escaping', async () => {
    const s = sandbox({ machineName: 'a machine 100% $HOME' })
    const odd = join(s.machine, `it's a "\\" 100% $HOME`)
    expect((await s.install(['--systemd', '--env-file', `${odd}.env`, '--log', `${odd}.log`])).exitCode).toBe(0)
    const units = ['gingr-sync.service', 'gingr-sync.timer', 'gingr-sync-full.service', 'gingr-sync-full.timer'].map((name) =>
      unit(s, name),
    )
    const check = await runCommand(['systemd-analyze', 'verify', ...units])
    expect(check.stderr).toBe('')
    expect(check.exitCode).toBe(0)
  })

  test('switching between cron and systemd leaves one scheduler', async () => {
    const s = sandbox()
    await s.install()
    expect((await s.install(['--systemd'])).exitCode).toBe(0)
    expect((s.crontab() ?? '').split('\n').filter(isManaged)).toEqual([])
    expect((await s.install()).exitCode).toBe(0)
    expect(managedLines(s.crontab())).toHaveLength(1)
    expect(managedLines(s.crontab(), FULL_CRON_MARKER)).toHaveLength(1)
    expect(existsSync(unit(s, 'gingr-sync.timer'))).toBe(false)
    expect(existsSync(unit(s, 'gingr-sync-full.timer'))).toBe(false)
  })

  test.each([
    ['systemd is not running', { systemdRunning: false }, 'systemd is not running on this machine (there is no '],
    ['there is no systemctl', { hide: ['systemctl'] }, 'systemctl not found'],
  ])('when %s: nothing is installed, the reason is said, exit 2', async (_name, options, message) => {
    const s = sandbox(options)
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    const before = snapshotTree(s.dir)
    const result = await s.install(['--systemd'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toStartWith(`install-cron.sh: error: ${message}`)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(snapshotTree(s.dir)).toEqual(before)
  })
})

describe.concurrent('--uninstall', () => {
  test('leaves the env file, the binary and the log; --purge removes them', async () => {
    const s = sandbox()
    await s.install()
    expect((await s.runCronCommand({}, FULL_CRON_MARKER)).exitCode).toBe(0) // makes the full sync's lock
    writeFileSync(s.paths.log, 'a run\n')
    writeFileSync(`${s.paths.log}.1`, 'an older run\n')

    expect((await s.install(['--uninstall'])).exitCode).toBe(0)
    for (const path of [s.paths.envFile, s.paths.binary, s.paths.log]) expect(existsSync(path)).toBe(true)

    const purged = await s.install(['--uninstall', '--purge'])
    expect(purged.exitCode).toBe(0)
    for (const path of [s.paths.envFile, dirname(s.paths.envFile), s.paths.binary, s.paths.fullLock, s.paths.log, `${s.paths.log}.1`]) {
      expect(existsSync(path)).toBe(false)
    }
    expect(s.crontab()).toBeNull()
    // One line per file removed, and one for the folder.
    const removed = purged.stdout.split('\n').filter((line) => line.startsWith('removed '))
    expect(removed).toEqual([
      `removed ${s.paths.envFile}`,
      `removed ${s.paths.binary}`,
      `removed ${s.paths.fullLock}`,
      `removed ${s.paths.log}`,
      `removed ${s.paths.log}.1`,
      `removed the folder ${dirname(s.paths.envFile)}`,
    ])
  })
})

describe.concurrent('command line', () => {
  test('--help prints the usage, with the test hook, and exits 0', async () => {
    const result = await sandbox().run(['--help'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('Usage: ./install-cron.sh')
    expect(result.stdout).toContain('GINGR_SYNC_ROOT')
  })

  test.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['--binary'], '--binary needs a value'],
    [['--log='], '--log needs a non-empty value'],
    [['--dry-run=yes'], '--dry-run takes no value'],
    [['extra'], "unexpected argument 'extra'"],
    [['--purge'], '--purge only goes with --uninstall'],
    [['--schedule', 'hourly'], '--schedule wants five cron fields'],
    [['--schedule', '0 * * * * rm -rf /'], '--schedule wants five cron fields'],
    [['--schedule', '0 * * *\n* * * * * evil'], '--schedule wants five cron fields'],
    [['--env-file', '/tmp/a\nb'], 'a path holds a control character'],
    [['--user', 'ops:wheel'], '--user wants a user name'],
    [['--user='], '--user needs a non-empty value'],
    [['--full-schedule='], '--full-schedule needs a non-empty value'],
    [['--no-full=yes'], '--no-full takes no value'],
    [['--no-full', '--full-schedule', '0 2 * * 0'], '--full-schedule and --no-full do not go together'],
    [['--full-schedule', 'weekly'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0 2 * * 0 rm -rf /'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0 2 * *\n0 evil'], `not $'0 2 * *\\n0 evil'`],
    // Each field within cron's bounds, in a form every cron reads.
    [['--full-schedule', '60 2 * * 0'], 'not "60 2 * * 0"'],
    [['--full-schedule', '0 24 * * 0'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0 2 0 * *'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0 2 * 13 *'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0 2 * * 8'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0 5-1 * * *'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '*/0 2 * * *'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '5/10 2 * * *'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0,,30 2 * * *'], '--full-schedule wants five cron fields'],
    [['--full-schedule', '0 2 * * sunday'], '--full-schedule wants five cron fields'],
    [['--schedule', '0 * * foo *'], '--schedule wants five cron fields'],
  ])('%p: one-line error, usage, exit 2, nothing changed', async (args, message) => {
    const s = sandbox()
    const before = snapshotTree(s.dir)
    const result = await s.install(args)
    expect(result.exitCode).toBe(2)
    expect(result.stderr.split('\n')[0]).toContain(message)
    expect(result.stderr).toContain('Usage: ./install-cron.sh')
    expect(snapshotTree(s.dir)).toEqual(before)
  })

  test.each([
    [{ hide: ['crontab'] }, [] as string[], 'crontab not found'],
    [{ hide: ['flock'] }, [], 'install util-linux'],
    [{}, ['--systemd', '--schedule', '0 * 1 * 1'], '--schedule "0 * 1 * 1" restricts both the day of the month and the day of the week'],
    [{}, ['--systemd', '--full-schedule', '0 2 1,15 * sun'], '--full-schedule "0 2 1,15 * sun" restricts both the day of the month'],
    [{ dist: STUB_BINARY }, ['--systemd', '--binary', `/opt/it's/gingr-sync`], 'systemd cannot run'],
  ])('a missing prerequisite (%p %p): exit 2, nothing changed', async (options, args, message) => {
    const s = sandbox(options)
    const before = snapshotTree(s.dir)
    const result = await s.install(args)
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(message)
    expect(snapshotTree(s.dir)).toEqual(before)
  })
})

describe.concurrent('--user NAME, run by root', () => {
  /** install-cron.sh run under umask 077 (sudo keeps the caller's): what it makes must still let NAME in. */
  const installUnderUmask077 = (s: InstallSandbox, args: string[]) =>
    runCommand(['sh', '-c', 'umask 077 && exec "$0" "$@"', s.paths.script, ...args], { env: s.env, cwd: s.dir })

  test.skipIf(!canMakeUser)(
    "puts the entry in NAME's crontab, makes what the job uses NAME's (the env file 600), runs doctor as NAME, and the line runs as NAME",
    async () => {
      const user = jobUser()
      const s = sandbox({ dist: STUB_BINARY, installedBinary: false })
      // A log folder of its own, as the default /var/log/gingr-sync: made NAME's, rotated as NAME.
      const log = join(s.machine, 'var/log/gingr-sync/gingr-sync.log')
      const flags = ['--binary', s.paths.binary, '--env-file', s.paths.envFile, '--log', log, '--lock', s.paths.lock, '--user', user.name]
      const result = await installUnderUmask077(s, flags)
      expect(result.stderr).toBe('')
      expect(result.exitCode).toBe(0)

      expect(managedLines(s.crontab(user.name))).toHaveLength(1)
      expect(managedLines(s.crontab(user.name), FULL_CRON_MARKER)).toHaveLength(1)
      expect(s.crontab('root')).toBeNull()
      expect(s.calls()).toContain(`crontab -u ${user.name} -l`)
      expect([ownerOf(s.paths.envFile), modeOf(s.paths.envFile)]).toEqual([user.ids, '600'])
      expect([ownerOf(dirname(s.paths.envFile)), modeOf(dirname(s.paths.envFile))]).toEqual([user.ids, '700'])
      for (const path of [log, dirname(log), s.paths.lock, s.paths.fullLock]) {
        expect({ path, owner: ownerOf(path) }).toEqual({ path, owner: user.ids })
      }
      // The binary stays root's: the job may run it, not change it.
      expect([ownerOf(s.paths.binary), modeOf(s.paths.binary)]).toEqual(['0:0', '755'])
      expect(s.calls()).toContain(`gingr-sync doctor --env-file ${s.paths.envFile} (as ${user.name})`)
      expect(result.stdout).toContain(`sudo crontab -u ${user.name} -l`)
      expect(result.stdout).toContain(`sudo -u ${user.name} ${s.paths.binary} status --env-file ${s.paths.envFile}`)
      expect(result.stderr).not.toContain('the job will run as root')
      const rule = readFileSync(join(s.machine, 'etc/logrotate.d/gingr-sync'), 'utf8')
      expect(rule).toContain(`\n    su ${user.name} ${user.name}\n    create 0640 ${user.name} ${user.name}\n`)

      for (const marker of [CRON_MARKER, FULL_CRON_MARKER]) {
        const run = await s.runCronCommandAs(user.name, marker)
        expect(run.stderr).toBe('')
        expect(run.exitCode).toBe(0)
      }
      expect(readFileSync(log, 'utf8')).toBe(
        `stand-in gingr-sync: --env-file ${s.paths.envFile}\nstand-in gingr-sync: full --env-file ${s.paths.envFile}\n`,
      )

      // Again: nothing to change, nothing said about owners.
      const table = s.crontab(user.name)
      const again = await s.run(flags)
      expect(again.exitCode).toBe(0)
      expect(s.crontab(user.name)).toBe(table)
      expect(again.stdout).not.toContain('owner: ')
      expect(again.stdout).toContain(`crontab of ${user.name}: the entry is already installed`)
    },
  )

  test.skipIf(!canMakeUser)("with the defaults, writes the README's sample entries (a dry run on this machine's paths)", async () => {
    const user = jobUser()
    const s = sandbox({ dist: STUB_BINARY, installedBinary: false })
    const result = await s.run(['--user', user.name, '--dry-run'])
    expect(result.exitCode).toBe(0)
    const entries = ['the entry', "the full sync's entry"].map(
      (name) => new RegExp(`^would: crontab of \\S+: install ${name}: (.*)$`, 'm').exec(result.stdout)?.[1] ?? `no ${name}`,
    )
    const readme = readFileSync(join(import.meta.dir, '../README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('### 2. Install'), readme.indexOf('### 3. Configure'))
    const samples = /^```\n(0 \* \* \* \* .*)\n(0 2 \* \* 0 .*)\n```$/m.exec(section)?.slice(1) ?? ['no sample entries in the README']
    const asInTheReadme = entries.map((entry) =>
      entry.replaceAll(`'${Bun.which('flock')}'`, "'/usr/bin/flock'").replaceAll(`'${Bun.which('timeout')}'`, "'/usr/bin/timeout'"),
    )
    expect(asInTheReadme).toEqual(samples)
  })

  test.skipIf(!canMakeUser || Bun.which('logrotate') === null)('logrotate accepts the rule that rotates as NAME', async () => {
    const user = jobUser()
    const s = sandbox()
    const log = join(s.machine, 'var/log/gingr-sync/gingr-sync.log')
    expect((await s.install(['--user', user.name, '--log', log])).exitCode).toBe(0)
    const check = await runCommand([
      'logrotate',
      '--debug',
      '--state',
      join(s.dir, 'logrotate.state'),
      join(s.machine, 'etc/logrotate.d/gingr-sync'),
    ])
    expect(check.stderr).not.toMatch(/error/i)
    expect(check.exitCode).toBe(0)
  })

  test.skipIf(!canMakeUser)("after an install as root: root's entry goes, the root-owned files become NAME's, as they are", async () => {
    const user = jobUser()
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    expect((await s.install()).exitCode).toBe(0)
    writeFileSync(s.paths.envFile, 'GINGR_API_KEY=keep-me\n')
    await s.runCronCommand() // the lock, as a run of root's left it
    for (const path of [s.paths.envFile, s.paths.log, s.paths.lock]) expect(ownerOf(path)).toBe('0:0')

    const result = await s.install(['--user', user.name])
    expect(result.exitCode).toBe(0)
    expect(s.crontab('root')).toBe(BUSY_TABLE)
    expect(result.stdout).toContain('crontab of root: remove the gingr-sync entry')
    expect(managedLines(s.crontab(user.name))).toHaveLength(1)
    expect(readFileSync(s.paths.envFile, 'utf8')).toBe('GINGR_API_KEY=keep-me\n')
    expect(modeOf(s.paths.envFile)).toBe('600')
    for (const path of [s.paths.envFile, dirname(s.paths.envFile), s.paths.log, s.paths.lock]) {
      expect({ path, owner: ownerOf(path) }).toEqual({ path, owner: user.ids })
      expect(result.stdout).toContain(`owner: ${path} is now ${user.name}'s`)
    }
    // The log's folder is root's /var/log: logrotate rotates as root and makes the new log NAME's.
    const rule = readFileSync(join(s.machine, 'etc/logrotate.d/gingr-sync'), 'utf8')
    expect(rule).not.toContain(' su ')
    expect(rule).toContain(`    create 0640 ${user.name} ${user.name}\n`)
    expect((await s.runCronCommandAs(user.name)).exitCode).toBe(0)
  })

  test.skipIf(!canMakeUser)("after it, root's own install or --uninstall is refused while the env file is NAME's (exit 2)", async () => {
    const user = jobUser()
    const s = sandbox()
    expect((await s.install(['--user', user.name])).exitCode).toBe(0)
    // Else an upgrade typed without --user would add a second job, root's; --uninstall would leave NAME's.
    for (const args of [[], ['--user', 'root'], ['--uninstall'], ['--uninstall', '--purge']]) {
      const before = snapshotTree(s.dir)
      const result = await s.install(args)
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 })
      expect(result.stderr).toBe(
        `install-cron.sh: error: ${s.paths.envFile} is ${user.name}'s, so the job is ${user.name}'s: add --user ${user.name} (to give the job to root instead, first uninstall it with --user ${user.name} and chown the env file to root)\n`,
      )
      expect(snapshotTree(s.dir)).toEqual(before)
    }
    // As the message says.
    expect((await s.install(['--user', user.name, '--uninstall'])).exitCode).toBe(0)
    expect((await runCommand(['chown', 'root:root', s.paths.envFile])).exitCode).toBe(0)
    expect((await s.install()).exitCode).toBe(0)
    expect(managedLines(s.crontab('root'))).toHaveLength(1)
    expect(s.crontab(user.name)).toBeNull()
  })

  test.skipIf(!canMakeUser)('an env file outside a gingr-sync folder that NAME may read is left to its owner', async () => {
    const user = jobUser()
    const s = sandbox()
    const shared = join(s.machine, 'app.env')
    writeFileSync(shared, 'GINGR_API_KEY=shared\n')
    expect((await runCommand(['chown', `0:${idOf(user.name, '-g')}`, shared])).exitCode).toBe(0)
    chmodSync(shared, 0o640)
    const result = await s.install(['--user', user.name, '--env-file', shared])
    expect(result.exitCode).toBe(0)
    expect([ownerOf(shared), modeOf(shared)]).toEqual([`0:${idOf(user.name, '-g')}`, '640'])
    expect(result.stdout).not.toContain(`owner: ${shared}`)
  })

  test.skipIf(!canMakeUser)(
    "with --systemd: User= and Group= in the service, which systemd-analyze accepts; the env file NAME's",
    async () => {
      const user = jobUser()
      const s = sandbox()
      expect((await s.install(['--systemd', '--user', user.name])).exitCode).toBe(0)
      const service = join(s.machine, 'etc/systemd/system/gingr-sync.service')
      expect(readFileSync(service, 'utf8')).toContain(`\nUser=${user.name}\nGroup=${user.name}\n`)
      const fullService = join(s.machine, 'etc/systemd/system/gingr-sync-full.service')
      expect(readFileSync(fullService, 'utf8')).toContain(`\nUser=${user.name}\nGroup=${user.name}\n`)
      expect(ownerOf(s.paths.envFile)).toBe(user.ids)
      if (Bun.which('systemd-analyze') !== null) {
        const units = ['gingr-sync.timer', 'gingr-sync-full.service', 'gingr-sync-full.timer'].map((name) =>
          join(s.machine, 'etc/systemd/system', name),
        )
        const check = await runCommand(['systemd-analyze', 'verify', service, ...units])
        expect(check.stderr).toBe('')
        expect(check.exitCode).toBe(0)
      }
    },
  )

  test.skipIf(!canMakeUser)("--uninstall --user NAME --purge empties NAME's crontab and names each file it removes", async () => {
    const user = jobUser()
    const s = sandbox()
    const log = join(s.machine, 'var/log/gingr-sync/gingr-sync.log')
    expect((await s.install(['--user', user.name, '--log', log])).exitCode).toBe(0)
    const result = await s.install(['--user', user.name, '--log', log, '--uninstall', '--purge'])
    expect(result.exitCode).toBe(0)
    expect(s.crontab(user.name)).toBeNull()
    expect(result.stdout.split('\n').filter((line) => line.startsWith('removed '))).toEqual([
      `removed ${join(s.machine, 'etc/logrotate.d/gingr-sync')}`,
      `removed ${s.paths.envFile}`,
      `removed ${s.paths.binary}`,
      `removed ${s.paths.lock}`,
      `removed ${s.paths.fullLock}`,
      `removed ${log}`,
      `removed the folder ${dirname(s.paths.envFile)}`,
      `removed the folder ${dirname(log)}`,
    ])
  })

  test.skipIf(!canMakeUser)('refuses, before any change, a job that could not run (exit 2, one line)', async () => {
    const user = jobUser()
    const nobodyHome = (await runCommand(['getent', 'passwd', 'nobody'])).stdout.split(':')[5] ?? ''
    const cases: [string, (s: InstallSandbox) => string[], string][] = [
      ['an unknown user', () => ['--user', 'no-such-user-gs'], "there is no user 'no-such-user-gs' on this machine: create one first"],
      [
        'a user without a home folder, where cron starts jobs',
        () => ['--user', 'nobody'],
        `nobody's home folder ${nobodyHome} is missing or closed to it, and cron starts each of its jobs there`,
      ],
      [
        'an env file in a folder closed to NAME',
        (s) => {
          mkdirSync(join(s.machine, 'private'), { mode: 0o700 })
          return ['--user', user.name, '--env-file', join(s.machine, 'private/sync.env')]
        },
        `${user.name} may not enter ${'MACHINE'}/private, so the job could not reach ${'MACHINE'}/private/sync.env: choose a --env-file outside it`,
      ],
      [
        "another program's env file, closed to NAME",
        (s) => {
          writeFileSync(join(s.machine, 'app.env'), 'DATABASE_URL=postgres://app@db/app\n', { mode: 0o600 })
          return ['--user', user.name, '--env-file', join(s.machine, 'app.env')]
        },
        `${user.name} may not read ${'MACHINE'}/app.env: make it ${user.name}'s (chown ${user.name}: ${'MACHINE'}/app.env), or give another --env-file`,
      ],
      [
        'a binary NAME may not run',
        (s) => {
          chmodSync(s.paths.binary, 0o700)
          return ['--user', user.name]
        },
        `${user.name} may not run ${'MACHINE'}/usr/local/bin/gingr-sync`,
      ],
    ]
    for (const [name, prepare, message] of cases) {
      if (name.includes('without a home') && existsSync(nobodyHome)) continue
      const s = sandbox()
      const args = prepare(s)
      const before = snapshotTree(s.dir)
      const result = await s.install(args)
      expect({ name, exitCode: result.exitCode }).toEqual({ name, exitCode: 2 })
      expect(result.stderr).toStartWith(`install-cron.sh: error: ${message.replaceAll('MACHINE', s.machine)}`)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(snapshotTree(s.dir)).toEqual(before)
    }
  })
})

describe.concurrent('a release folder (the binary, install-cron.sh and sha256sums.txt)', () => {
  test('the build for this machine beside the script is installed, checked against sha256sums.txt', async () => {
    const release = Object.fromEntries(RELEASE_BUILDS.map((name) => [name, buildNamed(name)]))
    const s = sandbox({ release, installedBinary: false, dist: STUB_BINARY })
    writeFileSync(join(s.paths.app, 'sha256sums.txt'), sumsOf(RELEASE_BUILDS.slice(0, 3)))
    const result = await s.install()
    expect(result.exitCode).toBe(0)
    expect(sha256(s.paths.binary)).toBe(sha256(buildNamed(THIS_MACHINES_BUILD)))
    expect(result.stdout).toContain(
      `binary: installing ${join(s.paths.app, THIS_MACHINES_BUILD)} (matches ${join(s.paths.app, 'sha256sums.txt')})\n`,
    )
  })

  test('a lone gingr-sync beside the script, without sha256sums.txt, is installed as it is', async () => {
    const s = sandbox({ release: { 'gingr-sync': buildNamed('gingr-sync') }, installedBinary: false, dist: STUB_BINARY })
    const result = await s.install()
    expect(result.exitCode).toBe(0)
    expect(sha256(s.paths.binary)).toBe(sha256(buildNamed('gingr-sync')))
    expect(result.stdout).toContain(`binary: installing ${join(s.paths.app, 'gingr-sync')}\n`)
  })

  test.each([
    [
      'a copy that does not match its checksum',
      (sums: string) => sums.replace(/^[0-9a-f]{8}/gm, '00000000'),
      'does not match its checksum in',
    ],
    ['a build that sha256sums.txt does not list', () => sumsOf(['gingr-sync']), 'is not listed in'],
  ])('%s is refused, before any change (exit 2)', async (_name, edit, message) => {
    const s = sandbox({ release: { [THIS_MACHINES_BUILD]: buildNamed(THIS_MACHINES_BUILD) } })
    writeFileSync(join(s.paths.app, 'sha256sums.txt'), edit(sumsOf([THIS_MACHINES_BUILD])))
    const before = snapshotTree(s.dir)
    const result = await s.install()
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toStartWith(`install-cron.sh: error: ${join(s.paths.app, THIS_MACHINES_BUILD)} ${message}`)
    expect(snapshotTree(s.dir)).toEqual(before)
  })

  test('./build.sh all makes dist/ one: the installer is in it, sha256sum -c passes, and it installs the binary', async () => {
    const out = mkdtempSync(join(buildsRoot.path, 'release-'))
    // Copies of the real binary: removed at the end of this case, not of the file.
    let s: InstallSandbox | undefined
    try {
      // No other platform: each would download a Bun runtime (tens of MB). The stand-ins above test
      // the choice among them.
      const built = await runCommand(['./build.sh', 'all'], {
        cwd: join(import.meta.dir, '..'),
        env: { ...process.env, GINGR_SYNC_BUILD_DIR: out, GINGR_SYNC_BUILD_TARGETS: '' },
      })
      expect(built.stderr).toBe('')
      expect(built.exitCode).toBe(0)
      expect(readFileSync(join(out, 'install-cron.sh'), 'utf8')).toBe(readFileSync(join(import.meta.dir, '../install-cron.sh'), 'utf8'))
      expect(statSync(join(out, 'install-cron.sh')).mode & 0o111).toBe(0o111)
      const check = await runCommand(['sha256sum', '-c', 'sha256sums.txt'], { cwd: out })
      expect(check.stdout).toBe('install-cron.sh: OK\n')

      const release = Object.fromEntries(readdirSync(out).map((name) => [name, join(out, name)]))
      s = sandbox({ release, installedBinary: false })
      const result = await s.install()
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain(`binary: installing ${join(s.paths.app, 'gingr-sync')}\n`)
      expect(sha256(s.paths.binary)).toBe(sha256(join(out, 'gingr-sync')))
      expect((await runCommand([s.paths.binary, '--version'])).exitCode).toBe(0)
    } finally {
      s?.remove()
      rmSync(out, { recursive: true, force: true })
    }
  })
})

const canDropRoot = process.getuid?.() === 0 && Bun.which('setpriv') !== null
describe.concurrent('an unprivileged user', () => {
  test.skipIf(!canDropRoot)('is refused before any change when a folder to write in is not theirs: exit 2', async () => {
    const s = sandbox()
    chmodSync(s.dir, 0o755) // so that nobody may run the script copy, and nothing more
    const before = snapshotTree(s.dir)
    const asNobody = await runCommand(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', s.paths.script, ...s.pathFlags], {
      env: s.env,
      cwd: '/',
    })
    expect(asNobody.exitCode).toBe(2)
    expect(asNobody.stderr).toContain(`cannot write in ${s.machine}/var: choose paths you may write`)
    expect(snapshotTree(s.dir)).toEqual(before)
  })
})

describe.concurrent('cronCommandOf', () => {
  test.each([
    [`0 * * * * 'a b' --x '\\%y' ${CRON_MARKER}\n`, `'a b' --x '%y' ${CRON_MARKER}`],
    [`# other\n@hourly run ${CRON_MARKER}\n`, `run ${CRON_MARKER}`],
  ])('%p → %p', (table, command) => {
    expect(cronCommandOf(table)).toBe(command)
  })

  test.each([['no entry\n'], [`1 * * * * a ${CRON_MARKER}\n2 * * * * b ${CRON_MARKER}\n`], [`0 * * * * a % b ${CRON_MARKER}\n`]])(
    'refuses %p',
    (table) => {
      expect(() => cronCommandOf(table)).toThrow()
    },
  )
})

// Alone, after all the others: both cases empty and fill the throwaway user's home, which the
// other cases' runs as that user enter too (cron starts a job there), and one compares it whole.
describe('a user other than root, for themself', () => {
  /** The throwaway user, with an empty home: each test starts as a fresh account. */
  const freshUser = () => {
    const user = jobUser()
    for (const name of readdirSync(user.home)) rmSync(join(user.home, name), { recursive: true, force: true })
    return user
  }

  test.skipIf(!canMakeUser)(
    'installs from a release folder under their home, in their own crontab, without logrotate (a line says how to rotate), and --purge names what it removes',
    async () => {
      const user = freshUser()
      const s = sandbox({ release: { [THIS_MACHINES_BUILD]: buildNamed(THIS_MACHINES_BUILD) }, installedBinary: false })
      const at = (path: string) => join(user.home, path)
      const [binaryPath, envFile, log, lock] = [
        at('.local/bin/gingr-sync'),
        at('.config/gingr-sync/gingr-sync.env'),
        at('.local/state/gingr-sync/gingr-sync.log'),
        at('.local/state/gingr-sync/gingr-sync.lock'),
      ]
      const result = await s.runAs(user.name, [], { HOME: user.home })
      expect(result.stderr).toBe('')
      expect(result.exitCode).toBe(0)

      expect(readFileSync(binaryPath, 'utf8')).toBe(readFileSync(buildNamed(THIS_MACHINES_BUILD), 'utf8'))
      expect([ownerOf(envFile), modeOf(envFile), modeOf(dirname(envFile))]).toEqual([user.ids, '600', '700'])
      expect(ownerOf(log)).toBe(user.ids)
      const command = s.cronCommand(user.name)
      expect(command).toContain(`'${lock}' '${Bun.which('timeout')}' -k 60 3480 '${binaryPath}' --env-file '${envFile}' >> '${log}' 2>&1;`)
      // Their own table, without -u, which some crons refuse even to name oneself.
      const crontabCalls = s.calls().filter((call) => call.startsWith('crontab '))
      expect(crontabCalls[0]).toBe('crontab -l')
      expect(crontabCalls.filter((call) => call.includes(' -u '))).toEqual([])
      expect(s.calls()).toContain(`gingr-sync doctor --env-file ${envFile} (as ${user.name})`)
      expect(result.stdout).toContain(
        `logrotate: skipped, only root may add a rule to ${join(s.machine, 'etc/logrotate.d')}; rotate the log yourself: each run opens it anew, so renaming it (mv ${log} ${log}.1) loses nothing`,
      )
      expect(readdirSync(join(s.machine, 'etc/logrotate.d'))).toEqual([])
      expect((await s.runCronCommandAs(user.name)).exitCode).toBe(0)
      expect(readFileSync(log, 'utf8')).toBe(`stand-in gingr-sync: --env-file ${envFile}\n`)

      // A rule that root wrote for another install is not theirs to remove: said, and left.
      const rule = join(s.machine, 'etc/logrotate.d/gingr-sync')
      writeFileSync(rule, `${CRON_MARKER}\n"/var/log/gingr-sync.log" {\n}\n`)
      const purged = await s.runAs(user.name, ['--uninstall', '--purge'], { HOME: user.home })
      expect(purged.exitCode).toBe(0)
      expect(purged.stderr).toContain(`${rule} belongs to an install made by root: left as it is`)
      expect(existsSync(rule)).toBe(true)
      expect(s.crontab(user.name)).toBeNull()
      expect(purged.stdout.split('\n').filter((line) => line.startsWith('removed '))).toEqual([
        `removed ${envFile}`,
        `removed ${binaryPath}`,
        `removed ${lock}`,
        `removed ${log}`,
        `removed the folder ${dirname(envFile)}`,
        `removed the folder ${dirname(log)}`,
      ])
    },
  )

  test.skipIf(!canMakeUser)('is refused what takes root, before any change (exit 2, one line)', async () => {
    const user = freshUser()
    const cases: [string[], Record<string, string>, string][] = [
      [['--user', 'root'], {}, 'only root can install the job of another user: run sudo ./install-cron.sh --user root'],
      [['--systemd'], {}, `--systemd writes system units, which takes root: run sudo ./install-cron.sh --systemd --user ${user.name}`],
      [[], { HOME: '' }, 'HOME is not set, and a user other than root installs under it'],
    ]
    for (const [args, env, message] of cases) {
      const s = sandbox({ release: { 'gingr-sync': STUB_BINARY }, installedBinary: false })
      const before = [snapshotTree(s.dir), snapshotTree(user.home)]
      const result = await s.runAs(user.name, args, { HOME: user.home, ...env })
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 })
      expect(result.stderr).toStartWith(`install-cron.sh: error: ${message}`)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect([snapshotTree(s.dir), snapshotTree(user.home)]).toEqual(before)
    }
  })
})
