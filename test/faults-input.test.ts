/**
 * The fault matrix, the operator's input (RELIABILITY.md): every flag with a bad value, settings
 * that are missing or wrong, env and config files that cannot be read. Each is exit 2 with one
 * line on stderr, before anything is done: Gingr is never asked, no row is written, no run is
 * recorded.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { join } from 'node:path'
import { API_KEY, type Bed, gingrSync, snapshot, startBed, stopBed } from './_faults.ts'
import { testDir } from './_tmp.ts'

const TENANT = 'fault-input'
const dir = testDir('faults-input')
let bed: Bed

setDefaultTimeout(60_000)

beforeAll(async () => {
  bed = await startBed(TENANT)
})
afterAll(async () => {
  await stopBed(bed)
})

/** A file in the test's own directory (mode 600: some hold the key); returns its path. */
const file = (name: string, text: string) => dir.write(name, text)

type Case = [name: string, args: () => string[], env: () => Record<string, string | undefined>, says: RegExp]

const none = () => ({})
const badNumbers: Case[] = [
  ...['past-days', 'future-days'].flatMap((flag): Case[] =>
    ['-1', '366', 'abc', '1.5'].map(
      (value): Case => [
        `--${flag} ${value}`,
        () => ['--tenant', TENANT, `--${flag}`, value],
        none,
        new RegExp(`--${flag} must be a whole number from 0 to 365, not "${value.replace('.', '\\.')}"`),
      ],
    ),
  ),
  ...['0', '601', 'x'].map(
    (value): Case => [
      `--timeout ${value}`,
      () => ['--tenant', TENANT, '--timeout', value],
      none,
      new RegExp(`--timeout must be a whole number from 1 to 600, not "${value}"`),
    ],
  ),
  ['status --max-age bad', () => ['status', '--max-age', 'bad'], none, /--max-age must be a whole number from 1 to 100000, not "bad"/],
  ['status --max-age 0', () => ['status', '--max-age', '0'], none, /--max-age must be a whole number from 1 to 100000, not "0"/],
]

const cases: Case[] = [
  ...badNumbers,
  ['--tenant with no value', () => ['--tenant'], none, /--tenant needs a value/],
  ['--tenant followed by another flag', () => ['--tenant', '--dry-run'], none, /--tenant needs a value/],
  ['--ping-url not-a-url', () => ['--tenant', TENANT, '--ping-url', 'not-a-url'], none, /The ping URL is not a URL/],
  [
    '--ping-url ftp://x',
    () => ['--tenant', TENANT, '--ping-url', 'ftp://monitor.example/x'],
    none,
    /The ping URL must be an http:\/\/ or https:\/\/ URL\./,
  ],
  [
    'full --ping-url ftp://x',
    () => ['full', '--tenant', TENANT, '--ping-url', 'ftp://monitor.example/x'],
    none,
    /The ping URL must be an http:\/\/ or https:\/\/ URL\./,
  ],
  ['an unknown flag', () => ['--tenant', TENANT, '--frobnicate'], none, /Unknown option --frobnicate/],
  ['a value given to a boolean flag', () => ['--tenant', TENANT, '--dry-run=maybe'], none, /--dry-run takes no value/],
  ['a stray positional argument', () => ['--tenant', TENANT, 'extra'], none, /Unexpected argument "extra"/],
  ['a stray argument after a command', () => ['sync', '--tenant', TENANT, 'extra'], none, /Unexpected argument "extra"/],
  ['an unknown command', () => ['frobnicate'], none, /Unknown command "frobnicate"/],
  ['an unknown tenant', () => ['--tenant', 'no-such-tenant'], none, /Tenant no-such-tenant does not exist/],
  ['no DATABASE_URL', () => ['--tenant', TENANT], () => ({ DATABASE_URL: undefined }), /DATABASE_URL is not set/],
  [
    'a DATABASE_URL that is not postgres://',
    () => ['--tenant', TENANT],
    () => ({ DATABASE_URL: 'mysql://root:pw-Faults-0@127.0.0.1/x' }),
    /DATABASE_URL is not a postgres:\/\/ URL/,
  ],
  [
    'no GINGR_API_KEY',
    () => ['--tenant', TENANT],
    () => ({ GINGR_API_KEY: undefined }),
    /GINGR_API_KEY is not set: put it in the env file/,
  ],
  [
    'no GINGR_SUBDOMAIN and no GINGR_BASE_URL',
    () => ['--tenant', TENANT],
    () => ({ GINGR_SUBDOMAIN: undefined, GINGR_BASE_URL: undefined }),
    /GINGR_SUBDOMAIN is not set: put it in the env file/,
  ],
  [
    'a GINGR_BASE_URL that is not a URL',
    () => ['--tenant', TENANT],
    () => ({ GINGR_BASE_URL: 'gingr dot com' }),
    /GINGR_BASE_URL is not an http:\/\/ or https:\/\/ URL\.$/,
  ],
  [
    'a GINGR_BASE_URL that is a file',
    () => ['--tenant', TENANT],
    () => ({ GINGR_BASE_URL: 'file:///etc/passwd' }),
    /GINGR_BASE_URL is not an http:\/\/ or https:\/\/ URL\.$/,
  ],
  [
    'a GINGR_SUBDOMAIN that is a host and a path',
    () => ['--tenant', TENANT],
    () => ({ GINGR_SUBDOMAIN: 'evil.com/x', GINGR_BASE_URL: undefined }),
    /GINGR_SUBDOMAIN is not a Gingr subdomain/,
  ],
  // The tests' own timing (src/timing.ts) is refused when malformed, never silently ignored.
  [
    'a GINGR_SYNC_TEST_TIMING that is not JSON',
    () => ['--tenant', TENANT],
    () => ({ GINGR_SYNC_TEST_TIMING: 'backoffBaseMs=10' }),
    /GINGR_SYNC_TEST_TIMING is not valid JSON/,
  ],
  [
    'a GINGR_SYNC_TEST_TIMING with a misspelt setting',
    () => ['--tenant', TENANT],
    () => ({ GINGR_SYNC_TEST_TIMING: '{"backofBaseMs":10}' }),
    /GINGR_SYNC_TEST_TIMING has no setting "backofBaseMs"/,
  ],
  [
    'a bad GINGR_SYNC_STATEMENT_TIMEOUT',
    () => ['--tenant', TENANT],
    () => ({ GINGR_SYNC_STATEMENT_TIMEOUT: '5m' }),
    /GINGR_SYNC_STATEMENT_TIMEOUT must be a whole number of seconds from 1 to 86400, not "5m"/,
  ],
  // As root, mode 000 does not stop a read: a directory and a missing path stand for an unreadable file.
  ['an env file that is a directory', () => ['--tenant', TENANT, '--env-file', dir.path], none, /The env file .* is not a regular file\.$/],
  [
    'an env file that does not exist',
    () => ['--tenant', TENANT, '--env-file', join(dir.path, 'missing.env')],
    none,
    /Cannot read the env file .*missing\.env: it does not exist/,
  ],
  // The line holds the key and is not KEY=VALUE: the message names the line, never quotes it.
  [
    'an env file with a line that is not KEY=VALUE',
    () => ['--tenant', TENANT, '--env-file', file('bad.env', `# ok\nGINGR_API_KEY ${API_KEY}\n`)],
    none,
    /bad\.env line 2 is not a KEY=VALUE line/,
  ],
  [
    'a config file with bad JSON',
    () => ['--tenant', TENANT, '--config', file('bad.json', '{ "tenants": ')],
    none,
    /The config file .*bad\.json is not valid JSON/,
  ],
  [
    'a config file with a bad shape',
    () => ['--tenant', TENANT, '--config', file('shape.json', JSON.stringify({ tenants: { [TENANT]: { pastDays: 'many' } } }))],
    none,
    /The config file .*shape\.json is not valid at `pastDays` of tenant fault-input: expected a number\./,
  ],
  [
    'a config file with an unknown key',
    () => ['--tenant', TENANT, '--config', file('typo.json', JSON.stringify({ tenant: {} }))],
    none,
    /The config file .*typo\.json has an unknown setting `tenant`; did you mean `tenants`\?$/,
  ],
  [
    'a config file that is a directory',
    () => ['--tenant', TENANT, '--config', dir.path],
    none,
    /The config file .* is not a regular file\.$/,
  ],
]

// Nothing is done in any case, so none can disturb another's proof: they run side by side.
describe.concurrent('bad input: exit 2, one line, nothing done', () => {
  for (const [name, args, env, says] of cases) {
    test(name, async () => {
      bed.sim.account.addReservation()
      const before = await snapshot(bed.db.sql, TENANT)
      const [runs] = await bed.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`
      const since = bed.sim.requests.length

      const result = await gingrSync(bed, args(), env())
      expect(result.code).toBe(2)
      expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(says)])
      expect(result.stderr).toMatch(/^\S+Z ERROR /)
      expect(result.stdout).toBe('')

      expect(bed.sim.requests.length).toBe(since)
      expect(await snapshot(bed.db.sql, TENANT)).toEqual(before)
      const [runsAfter] = await bed.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`
      expect(runsAfter!.n).toBe(runs!.n)
    })
  }
})
