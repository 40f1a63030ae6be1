/**
 * install-cron.sh, run for real in a sandbox (see test/fixtures/bin-stubs/install-cron-sandbox.ts):
 * crontab and systemctl are stand-ins first on PATH, the binary is a stand-in shell script, and
 * every system path points into a temp dir.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { startSimulator } from '../src/simulator/index.ts'
import { binary } from './_binary.ts'
import { migratedDatabase } from './_db.ts'
import {
  CRON_MARKER,
  createInstallSandbox,
  cronCommandOf,
  type InstallSandbox,
  type SandboxOptions,
  snapshotTree,
} from './fixtures/bin-stubs/install-cron-sandbox.ts'
import { insertTenant } from './fixtures/tailtown.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

const STUB_BINARY = join(import.meta.dir, 'fixtures/bin-stubs/gingr-sync')

const sandboxes: InstallSandbox[] = []
function sandbox(options: SandboxOptions = {}): InstallSandbox {
  const created = createInstallSandbox(options)
  sandboxes.push(created)
  return created
}
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.remove()
})

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8)
const managedLines = (table: string | null): string[] => (table ?? '').split('\n').filter((line) => line.endsWith(CRON_MARKER))

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

describe('install (cron)', () => {
  test('installs one entry: schedule, flock -n on the lock, a hard time limit, the binary with --env-file, output appended to the log', () => {
    const s = sandbox()
    const result = s.install()
    expect(result.exitCode).toBe(0)

    const entries = managedLines(s.crontab())
    expect(entries).toHaveLength(1)
    const [flock, timeout] = [Bun.which('flock'), Bun.which('timeout')]
    expect(entries[0]).toBe(
      `0 * * * * '${flock}' -n -E 75 '${s.paths.lock}' '${timeout}' -k 60 3480 '${s.paths.binary}' --env-file '${s.paths.envFile}' >> '${s.paths.log}' 2>&1; ` +
        `[ $? != 75 ] || printf '\\%s WARN  \\%s\\n' "$(date -u +\\%Y-\\%m-\\%dT\\%H:\\%M:\\%SZ)" 'skipped: the previous run still holds ${s.paths.lock}' >> '${s.paths.log}' ${CRON_MARKER}`,
    )
    expect(s.calls()).toContain(`gingr-sync doctor --env-file ${s.paths.envFile}`)
    for (const hint of ['crontab -l', `tail -f ${s.paths.log}`, `${s.paths.binary} status --env-file ${s.paths.envFile}`]) {
      expect(result.stdout).toContain(hint)
    }
    expect(existsSync(s.paths.log)).toBe(true)
  })

  test.each([
    ['no crontab at all', null],
    ['an empty crontab', ''],
    ['a busy crontab', BUSY_TABLE],
    ['a crontab with an entry of its own at the end', '0 3 * * * /usr/local/bin/other-job\n'],
  ])('with %s: two installs leave one entry, other lines byte for byte, and --uninstall restores it exactly', (_name, table) => {
    const s = sandbox()
    if (table !== null) writeFileSync(s.paths.crontab, table)

    expect(s.install().exitCode).toBe(0)
    const first = s.crontab()
    expect(s.install().exitCode).toBe(0)
    expect(s.crontab()).toBe(first)
    expect(managedLines(first)).toHaveLength(1)
    const others = (first ?? '').split('\n').filter((line) => !line.endsWith(CRON_MARKER))
    expect(others.join('\n')).toBe(table ?? '')

    expect(s.install(['--uninstall']).exitCode).toBe(0)
    expect(s.crontab()).toBe(table === '' ? null : table)
  })

  test('a new --schedule replaces the entry where it stands', () => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    s.install()
    const before = s.crontab() ?? ''
    writeFileSync(s.paths.crontab, `${before}# added after the install\n`)

    expect(s.install(['--schedule', '*/15 6-20 * * 1-5']).exitCode).toBe(0)
    const after = s.crontab() ?? ''
    const [entry] = managedLines(after)
    expect(entry?.startsWith(`*/15 6-20 * * 1-5 '`)).toBe(true)
    expect(after.replace(entry ?? '', managedLines(before)[0] ?? '')).toBe(`${before}# added after the install\n`)
  })

  test('an @macro schedule is kept as it is', () => {
    const s = sandbox()
    expect(s.install(['--schedule', '@daily']).exitCode).toBe(0)
    expect(managedLines(s.crontab())[0]?.startsWith(`@daily '`)).toBe(true)
  })

  test('the installed line runs under sh -c with paths that need quoting, and flock keeps runs from overlapping', async () => {
    const s = sandbox({ machineName: `it's 100% a "machine" $HOME` })
    expect(s.install().exitCode).toBe(0)

    const first = s.runCronCommand()
    expect(first.exitCode).toBe(0)
    expect(readFileSync(s.paths.log, 'utf8')).toBe(`stand-in gingr-sync: --env-file ${s.paths.envFile}\n`)
    expect(existsSync(s.paths.lock)).toBe(true)

    const holder = Bun.spawn(['flock', s.paths.lock, 'sleep', '60'], { stdout: 'ignore', stderr: 'ignore' })
    try {
      while (Bun.spawnSync(['flock', '-n', s.paths.lock, 'true']).exitCode === 0) await Bun.sleep(20)
      // The run that finds the lock held does not run, and says so in one line of the log.
      s.runCronCommand()
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

  test('relative paths become absolute: cron runs in the home directory', () => {
    const s = sandbox()
    const result = s.run(['--binary', s.paths.binary, '--env-file', 'machine/my.env', '--log', 'machine/sync.log', '--lock', s.paths.lock])
    expect(result.exitCode).toBe(0)
    expect(s.cronCommand()).toContain(`--env-file '${join(s.dir, 'machine/my.env')}' >> '${join(s.dir, 'machine/sync.log')}'`)
  })
})

describe('the env file', () => {
  test('is created from a commented template, mode 600 in a 700 directory', () => {
    const s = sandbox()
    expect(s.install().exitCode).toBe(0)
    expect(modeOf(s.paths.envFile)).toBe('600')
    expect(modeOf(dirname(s.paths.envFile))).toBe('700')
    const template = readFileSync(s.paths.envFile, 'utf8')
    for (const name of ['DATABASE_URL', 'GINGR_SUBDOMAIN', 'GINGR_API_KEY', 'GINGR_BASE_URL', 'GINGR_SYNC_PING_URL', 'GINGR_SYNC_CONFIG']) {
      expect(template).toContain(`#${name}=`)
    }
    const active = template.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))
    expect(active).toEqual([])
  })

  test.each([
    [0o600, false],
    [0o400, false],
    [0o640, true],
    [0o644, true],
    [0o604, true],
  ])('an existing one (mode %o) is never overwritten; warned about when others can read it: %p', (mode, warned) => {
    const s = sandbox()
    mkdirSync(dirname(s.paths.envFile), { recursive: true })
    writeFileSync(s.paths.envFile, 'GINGR_API_KEY=keep-me\n')
    chmodSync(s.paths.envFile, mode)

    const result = s.install()
    expect(result.exitCode).toBe(0)
    expect(readFileSync(s.paths.envFile, 'utf8')).toBe('GINGR_API_KEY=keep-me\n')
    expect(statSync(s.paths.envFile).mode & 0o777).toBe(mode)
    expect(result.stderr.includes('chmod 600')).toBe(warned)
  })

  test.each([[[] as string[]], [['--systemd']]])(
    'no secret from it appears in the crontab, the units, the rule or the output (%p)',
    (extra) => {
      const s = sandbox()
      const secrets = ['s3cret-db-pass', 'gk_live_9f8e7d6c5b4a']
      mkdirSync(dirname(s.paths.envFile), { recursive: true })
      writeFileSync(
        s.paths.envFile,
        `DATABASE_URL=postgres://sync:${secrets[0]}@127.0.0.1:5432/tailtown\nGINGR_SUBDOMAIN=resort\nGINGR_API_KEY=${secrets[1]}\n`,
        { mode: 0o600 },
      )
      const result = s.install(extra)
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

describe('--dry-run', () => {
  const installed = (s: InstallSandbox, args: string[] = []): void => {
    expect(s.install(args).exitCode).toBe(0)
  }
  test.each([
    ['install on a fresh machine', () => {}, [] as string[]],
    ['install --systemd on a fresh machine', () => {}, ['--systemd']],
    ['a second install', installed, []],
    ['--uninstall', installed, ['--uninstall']],
    ['--uninstall --purge', installed, ['--uninstall', '--purge']],
    ['--uninstall of the units', (s: InstallSandbox) => installed(s, ['--systemd']), ['--uninstall']],
  ])('%s changes nothing: same files, same crontab, nothing but crontab -l called', (_name, prepare, args) => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    prepare(s)
    const before = snapshotTree(s.dir)
    const callsBefore = s.calls().length

    const result = s.install([...args, '--dry-run'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('would: ')
    const after = snapshotTree(s.dir)
    // The stand-ins' own call log is the one file allowed to change: it shows what was called.
    for (const tree of [before, after]) tree.delete(s.paths.calls)
    expect(after).toEqual(before)
    for (const call of s.calls().slice(callsBefore)) expect(call).toBe('crontab -l')
  })

  test('names every action it would take', () => {
    const s = sandbox({ dist: STUB_BINARY, installedBinary: false })
    const result = s.install(['--dry-run'])
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

describe('the binary', () => {
  test('dist/gingr-sync beside the script is copied to --binary, mode 755, through a temp file and a rename', () => {
    const s = sandbox({ dist: STUB_BINARY })
    mkdirSync(dirname(s.paths.binary), { recursive: true })
    writeFileSync(s.paths.binary, '#!/bin/sh\necho old build\n')

    const result = s.install()
    expect(result.exitCode).toBe(0)
    expect(readFileSync(s.paths.binary, 'utf8')).toBe(readFileSync(STUB_BINARY, 'utf8'))
    expect(modeOf(s.paths.binary)).toBe('755')
    expect(readdirSync(dirname(s.paths.binary))).toEqual(['gingr-sync'])
    expect(s.calls()).toContain(`gingr-sync doctor --env-file ${s.paths.envFile}`)

    expect(s.install().stdout).toContain('already the current build')
  })

  test('neither dist/ nor an installed binary: a clear error, exit 2, nothing changed', () => {
    const s = sandbox({ installedBinary: false })
    const before = snapshotTree(s.machine)
    const result = s.install()
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('./build.sh')
    expect(snapshotTree(s.machine)).toEqual(before)
  })
})

describe('doctor', () => {
  test('a failing doctor is reported with what to do next, and the install stands', () => {
    const s = sandbox()
    const result = s.install([], { STUB_BINARY_EXIT: '1' })
    expect(result.exitCode).toBe(0)
    expect(managedLines(s.crontab())).toHaveLength(1)
    expect(result.stderr).toContain(`edit ${s.paths.envFile}, then run: ${s.paths.binary} doctor --env-file ${s.paths.envFile}`)
  })
})

describe('logrotate', () => {
  const rulePath = (s: InstallSandbox): string => join(s.machine, 'etc/logrotate.d/gingr-sync')

  test('writes a weekly rule for the log, and --uninstall removes it', () => {
    const s = sandbox()
    expect(s.install().exitCode).toBe(0)
    const rule = readFileSync(rulePath(s), 'utf8')
    expect(rule).toContain(`"${s.paths.log}" {`)
    for (const directive of ['weekly', 'rotate 8', 'compress', 'missingok', 'notifempty']) {
      expect(rule).toMatch(new RegExp(`^\\s+${directive}$`, 'm'))
    }
    expect(s.install(['--uninstall']).exitCode).toBe(0)
    expect(existsSync(rulePath(s))).toBe(false)
  })

  test.skipIf(Bun.which('logrotate') === null)('logrotate accepts the rule', () => {
    const s = sandbox()
    s.install()
    const check = Bun.spawnSync(['logrotate', '--debug', '--state', join(s.dir, 'logrotate.state'), rulePath(s)])
    expect(check.stderr.toString()).not.toMatch(/error/i)
    expect(check.exitCode).toBe(0)
  })

  test('without /etc/logrotate.d nothing is written', () => {
    const s = sandbox({ logrotateDir: false })
    const result = s.install()
    expect(result.exitCode).toBe(0)
    expect(existsSync(join(s.machine, 'etc/logrotate.d'))).toBe(false)
    expect(result.stdout).toContain('logrotate: no ')
  })

  test('a rule written by hand is left alone, by install and by --uninstall', () => {
    const s = sandbox()
    writeFileSync(rulePath(s), '/var/log/gingr-sync.log { daily }\n')
    expect(s.install().stderr).toContain('not written by install-cron.sh')
    expect(s.install(['--uninstall']).exitCode).toBe(0)
    expect(readFileSync(rulePath(s), 'utf8')).toBe('/var/log/gingr-sync.log { daily }\n')
  })
})

describe('--systemd', () => {
  const unit = (s: InstallSandbox, name: string): string => join(s.machine, 'etc/systemd/system', name)

  test('writes a oneshot service and an hourly persistent timer, enables the timer, and --uninstall removes both', () => {
    const s = sandbox()
    writeFileSync(s.paths.crontab, BUSY_TABLE)
    const result = s.install(['--systemd'])
    expect(result.exitCode).toBe(0)

    const service = readFileSync(unit(s, 'gingr-sync.service'), 'utf8')
    expect(service).toContain('Type=oneshot')
    expect(service).toContain(`ExecStart="${s.paths.binary}" --env-file "${s.paths.envFile}"`)
    expect(service).toContain(`StandardOutput=append:${s.paths.log}`)
    const timer = readFileSync(unit(s, 'gingr-sync.timer'), 'utf8')
    expect(timer).toContain('OnCalendar=hourly')
    expect(timer).toContain('Persistent=true')
    expect(timer).toContain('WantedBy=timers.target')
    expect(s.calls()).toEqual(expect.arrayContaining(['systemctl daemon-reload', 'systemctl enable --now gingr-sync.timer']))
    expect(s.crontab()).toBe(BUSY_TABLE)
    expect(result.stdout).toContain('systemctl list-timers')

    expect(s.install(['--uninstall']).exitCode).toBe(0)
    expect(existsSync(unit(s, 'gingr-sync.service'))).toBe(false)
    expect(existsSync(unit(s, 'gingr-sync.timer'))).toBe(false)
    expect(s.calls()).toContain('systemctl disable --now gingr-sync.timer')
    expect(s.crontab()).toBe(BUSY_TABLE)
  })

  test.skipIf(Bun.which('systemd-analyze') === null)('systemd-analyze accepts the units, even with paths that need escaping', () => {
    const s = sandbox({ machineName: 'a machine 100% $HOME' })
    const odd = join(s.machine, `it's a "\\" 100% $HOME`)
    expect(s.install(['--systemd', '--env-file', `${odd}.env`, '--log', `${odd}.log`]).exitCode).toBe(0)
    const check = Bun.spawnSync(['systemd-analyze', 'verify', unit(s, 'gingr-sync.service'), unit(s, 'gingr-sync.timer')])
    expect(check.stderr.toString()).toBe('')
    expect(check.exitCode).toBe(0)
  })

  test('switching between cron and systemd leaves one scheduler', () => {
    const s = sandbox()
    s.install()
    expect(s.install(['--systemd']).exitCode).toBe(0)
    expect(managedLines(s.crontab())).toEqual([])
    expect(s.install().exitCode).toBe(0)
    expect(managedLines(s.crontab())).toHaveLength(1)
    expect(existsSync(unit(s, 'gingr-sync.timer'))).toBe(false)
  })

  test('without systemctl the units are written and the warning says what to run', () => {
    const s = sandbox({ hide: ['systemctl'] })
    const result = s.install(['--systemd'])
    expect(result.exitCode).toBe(0)
    expect(existsSync(unit(s, 'gingr-sync.timer'))).toBe(true)
    expect(result.stderr).toContain('systemctl enable --now gingr-sync.timer')
  })
})

describe('--uninstall', () => {
  test('leaves the env file, the binary and the log; --purge removes them', () => {
    const s = sandbox()
    s.install()
    writeFileSync(s.paths.log, 'a run\n')
    writeFileSync(`${s.paths.log}.1`, 'an older run\n')

    expect(s.install(['--uninstall']).exitCode).toBe(0)
    for (const path of [s.paths.envFile, s.paths.binary, s.paths.log]) expect(existsSync(path)).toBe(true)

    expect(s.install(['--uninstall', '--purge']).exitCode).toBe(0)
    for (const path of [s.paths.envFile, dirname(s.paths.envFile), s.paths.binary, s.paths.log, `${s.paths.log}.1`]) {
      expect(existsSync(path)).toBe(false)
    }
    expect(s.crontab()).toBeNull()
  })
})

describe('command line', () => {
  test('--help prints the usage, with the test hook, and exits 0', () => {
    const result = sandbox().run(['--help'])
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
  ])('%p: one-line error, usage, exit 2, nothing changed', (args, message) => {
    const s = sandbox()
    const before = snapshotTree(s.dir)
    const result = s.install(args)
    expect(result.exitCode).toBe(2)
    expect(result.stderr.split('\n')[0]).toContain(message)
    expect(result.stderr).toContain('Usage: ./install-cron.sh')
    expect(snapshotTree(s.dir)).toEqual(before)
  })

  test.each([
    [{ hide: ['crontab'] }, [] as string[], 'crontab not found'],
    [{ hide: ['flock'] }, [], 'install util-linux'],
    [{}, ['--systemd', '--schedule', '*/10 * * * *'], 'OnCalendar='],
    [{ dist: STUB_BINARY }, ['--systemd', '--binary', `/opt/it's/gingr-sync`], 'systemd cannot run'],
  ])('a missing prerequisite (%p %p): exit 2, nothing changed', (options, args, message) => {
    const s = sandbox(options)
    const before = snapshotTree(s.dir)
    const result = s.install(args)
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(message)
    expect(snapshotTree(s.dir)).toEqual(before)
  })
})

const canDropRoot = process.getuid?.() === 0 && Bun.which('setpriv') !== null
describe('an unprivileged user', () => {
  test.skipIf(!canDropRoot)('is refused before any change when a folder to write in is not theirs: exit 2', () => {
    const s = sandbox()
    chmodSync(s.dir, 0o755) // so that nobody may run the script copy, and nothing more
    const before = snapshotTree(s.dir)
    const asNobody = Bun.spawnSync({
      cmd: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', s.paths.script, ...s.pathFlags],
      env: s.env,
      cwd: '/',
    })
    expect(asNobody.exitCode).toBe(2)
    expect(asNobody.stderr.toString()).toContain(`cannot write in ${s.machine}/var: run as a user who can, e.g. sudo`)
    expect(snapshotTree(s.dir)).toEqual(before)
  })
})

test('the installed cron line, run by sh -c, syncs the simulator into PostgreSQL with the real binary', async () => {
  const sim = await startSimulator({ seed: 41, reservations: 80, owners: 30, animals: 40 })
  const db = await migratedDatabase()
  try {
    await insertTenant(db.sql, { id: 'cron-tenant', businessName: 'Cron Kennels', timezone: 'America/Denver' })
    const box = sandbox({ dist: await binary() })
    const installed = box.install()
    expect(installed.exitCode).toBe(0)
    writeFileSync(
      box.paths.envFile,
      [`DATABASE_URL=${db.url}`, 'GINGR_SUBDOMAIN=cron-kennels', `GINGR_API_KEY=${sim.apiKey}`, `GINGR_BASE_URL=${sim.baseUrl}`, ''].join(
        '\n',
      ),
      { mode: 0o600 },
    )

    // The binary's work happens in another process: run cron's line without blocking the simulator.
    const proc = Bun.spawn(['sh', '-c', box.cronCommand()], { env: { PATH: '/usr/bin:/bin', HOME: box.dir }, cwd: box.dir })
    expect(await proc.exited).toBe(0)

    const log = readFileSync(box.paths.log, 'utf8')
    const lines = log.trim().split('\n')
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) /)
    expect(log).toContain('Tenant: Cron Kennels (cron-tenant)')
    expect(log).toContain('✅ Sync complete')
    expect(log).not.toContain(sim.apiKey)
    const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM reservations WHERE "tenantId" = 'cron-tenant'`
    expect(row?.n).toBeGreaterThan(0)
    expect(readFileSync(box.paths.crontab, 'utf8')).not.toContain(sim.apiKey)
  } finally {
    await sim.stop()
    await db.drop()
  }
})

describe('cronCommandOf', () => {
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
