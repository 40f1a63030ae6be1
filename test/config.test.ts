/**
 * Settings files as a careless operator (or a hostile one) writes them: each mistake is one
 * sentence that says where, never what the file holds (it may hold a key), and no file, however
 * large or strange, is read whole or waited on.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadSettings, maxRuntimeMs, parseEnvFile, readConfigFile, SETTINGS_FILE_LIMIT_BYTES, statementTimeoutMs } from '../src/config.ts'
import { UsageError } from '../src/errors.ts'
import { jsonSyntaxError } from '../src/json-syntax.ts'

const KEY = 'd41d8cd98f00b204e9800998ecf8427e'
const dir = mkdtempSync(join(tmpdir(), 'gingr-sync-config-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
function file(text: string): string {
  const path = join(dir, `settings-${++files}`)
  writeFileSync(path, text, { mode: 0o600 })
  return path
}

/** The UsageError a call throws; fails the test when it throws anything else or nothing. */
function usageErrorOf(call: () => unknown): string {
  try {
    call()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error('expected a UsageError, but nothing was thrown')
}

/** Every 8-character piece of the key: a message that holds any of them leaks part of it. */
function leaksKey(text: string): boolean {
  for (let at = 0; at + 8 <= KEY.length; at++) if (text.includes(KEY.slice(at, at + 8))) return true
  return false
}

describe('the config file: each mistake in plain words, by position, never by content', () => {
  const cases: Array<[string, string, string]> = [
    ['an unquoted key', `{\n  "tenants": { "t1": { "apiKey": ${KEY} } }\n}`, 'is not valid JSON (line 2, column 34).'],
    ['a trailing comma', '{ "pastDays": 3, }', 'is not valid JSON (line 1, column 18).'],
    ['an empty file', '', 'is not valid JSON (line 1, column 1).'],
    [
      'a numeric key',
      `{ "tenants": { "t1": { "apiKey": ${KEY.replace(/\D/g, '')} } } }`,
      'is not valid at `apiKey` of tenant t1: expected a string.',
    ],
    [
      'a base URL with a password',
      `{ "tenants": { "t1": { "baseUrl": "https://u:${KEY}@ gingr" } } }`,
      'is not valid at `baseUrl` of tenant t1: expected an http:// or https:// URL.',
    ],
    [
      'a base URL that is a file',
      '{ "tenants": { "t1": { "baseUrl": "file:///etc/passwd" } } }',
      'is not valid at `baseUrl` of tenant t1: expected an http:// or https:// URL.',
    ],
    [
      'a tenant setting in the wrong case',
      `{ "tenants": { "t1": { "apikey": "${KEY}" } } }`,
      'has an unknown setting `apikey` in tenant t1; did you mean `apiKey`?',
    ],
    ['a top-level typo', '{ "futurDays": 3 }', 'has an unknown setting `futurDays`; did you mean `futureDays`?'],
    ['an unknown setting with no near name', '{ "colour": "blue" }', 'has an unknown setting `colour`.'],
    ['a window too long', '{ "futureDays": 400 }', 'is not valid at `futureDays`: expected at most 365.'],
    ['a negative window', '{ "tenants": { "t1": { "pastDays": -1 } } }', 'is not valid at `pastDays` of tenant t1: expected at least 0.'],
    ['a fractional window', '{ "pastDays": 1.5 }', 'is not valid at `pastDays`: expected a whole number.'],
    ['a tenant that is not an object', '{ "tenants": { "t1": "yes" } }', 'is not valid at tenant t1: expected an object.'],
  ]
  for (const [name, text, sentence] of cases) {
    test(name, () => {
      const path = file(text)
      const message = usageErrorOf(() => readConfigFile(path))
      expect(message).toBe(`The config file ${path} ${sentence}`)
      expect(leaksKey(message)).toBe(false)
    })
  }

  test('a byte-order mark (a Windows editor) is not an error', () => {
    expect(readConfigFile(file('\uFEFF{ "pastDays": 3 }')).pastDays).toBe(3)
  })

  test('a config symlinked to a file that is not JSON says where it broke, not its first word', () => {
    const target = file('root:$6$secret-hash:19000:0:99999:7:::\n')
    const link = join(dir, 'shadow-link.json')
    symlinkSync(target, link)
    const message = usageErrorOf(() => readConfigFile(link))
    expect(message).toBe(`The config file ${link} is not valid JSON (line 1, column 1).`)
    expect(message).not.toContain('root')
  })
})

describe('settings files must be regular files of a bounded size', () => {
  const fifo = join(dir, 'fifo')
  spawnSync('mkfifo', [fifo])
  const cases: Array<[string, () => string, (path: string) => string]> = [
    ['/dev/zero (endless)', () => '/dev/zero', (path) => `The config file ${path} is not a regular file.`],
    ['a FIFO (would wait for a writer forever)', () => fifo, (path) => `The config file ${path} is not a regular file.`],
    ['a folder', () => dir, (path) => `The config file ${path} is not a regular file.`],
    [
      'a file over the limit',
      () => file(' '.repeat(SETTINGS_FILE_LIMIT_BYTES + 1)),
      (path) =>
        `The config file ${path} is ${SETTINGS_FILE_LIMIT_BYTES + 1} bytes; a settings file may hold at most ${SETTINGS_FILE_LIMIT_BYTES}.`,
    ],
    ['a file that does not exist', () => join(dir, 'missing.json'), (path) => `Cannot read the config file ${path}: it does not exist.`],
  ]
  for (const [name, make, sentence] of cases) {
    test(`--config ${name}`, () => {
      const path = make()
      expect(usageErrorOf(() => readConfigFile(path))).toBe(sentence(path))
    })
    test(`--env-file ${name}`, () => {
      const path = make()
      expect(usageErrorOf(() => loadSettings({ envFile: path, env: {} }))).toBe(sentence(path).replace('config file', 'env file'))
    })
  }

  test.skipIf(process.getuid?.() === 0)('(not as root) a file the user may not read', () => {
    const path = file('{}')
    chmodSync(path, 0o000)
    expect(usageErrorOf(() => readConfigFile(path))).toBe(`Cannot read the config file ${path}: permission denied.`)
  })
})

describe('the env file', () => {
  const cases: Array<[string, string, Record<string, string>]> = [
    ['export, double quotes and a comment', 'export GINGR_API_KEY="abc def"   # the key', { GINGR_API_KEY: 'abc def' }],
    ['single quotes keep a #', "A='x # y'", { A: 'x # y' }],
    ['a bare value loses its comment', 'B=plain # note', { B: 'plain' }],
    ['a quote inside a quoted value', 'C="a"b"', { C: 'a"b' }],
    ['a comment holding quotes', 'D="a" # "b"', { D: 'a' }],
    ['an empty quoted value', 'E=""', { E: '' }],
    ['CRLF line ends', 'F=1\r\nG=2\r\n', { F: '1', G: '2' }],
  ]
  for (const [name, text, values] of cases) test(name, () => expect(parseEnvFile(text, 'f')).toEqual(values))

  test('a line that is not KEY=VALUE is named by number, not quoted', () => {
    const message = usageErrorOf(() => parseEnvFile(`A=1\n${KEY}\n`, '/etc/gingr-sync.env'))
    expect(message).toBe('/etc/gingr-sync.env line 2 is not a KEY=VALUE line.')
  })
})

describe('secrets every output is scrubbed of', () => {
  test('the keys, and the passwords of every URL the settings hold', () => {
    const config = file(
      JSON.stringify({ tenants: { t1: { apiKey: 'tenant-key-1', baseUrl: 'https://proxy:proxy-pass-1@gingr.example/api' } } }),
    )
    const settings = loadSettings({
      configPath: config,
      env: {
        GINGR_API_KEY: 'shared-key-1',
        DATABASE_URL: 'postgres://u:db-pass%401@h/d',
        GINGR_BASE_URL: 'https://g:gingr-pass-1@h/api/v1',
        GINGR_SYNC_PING_URL: 'https://m:ping-pass-1@h/ping',
      },
    })
    expect(settings.secrets.sort()).toEqual(['db-pass@1', 'gingr-pass-1', 'ping-pass-1', 'proxy-pass-1', 'shared-key-1', 'tenant-key-1'])
  })
})

describe('jsonSyntaxError', () => {
  const cases: Array<[string, { line: number; column: number } | undefined]> = [
    ['{"a": [1, 2.5e3, true, false, null, "\\u00e9\\n"]}', undefined],
    ['[1, 2', { line: 1, column: 6 }],
    ['{"a" 1}', { line: 1, column: 6 }],
    ['"\\x"', { line: 1, column: 3 }],
    ['01', { line: 1, column: 2 }],
    ['{}\n\n  x', { line: 3, column: 3 }],
    ['"a\tb"', { line: 1, column: 3 }],
    ['['.repeat(100_000), { line: 1, column: 501 }],
  ]
  for (const [text, position] of cases) test(JSON.stringify(text.slice(0, 40)), () => expect(jsonSyntaxError(text)).toEqual(position))

  test('agrees with JSON.parse on what is valid', () => {
    for (const text of ['1', '-0.5', '"x"', '[]', '{}', '{"a":{"b":[{}]}}', ' null ', '1e', '.5', '+1', 'tru', '{"a":1,}', '[,]']) {
      let valid = true
      try {
        JSON.parse(text)
      } catch {
        valid = false
      }
      expect(jsonSyntaxError(text) === undefined).toBe(valid)
    }
  })
})

describe('bounds that are never "no limit"', () => {
  test('a statement may run 300 s by default, lock waits included; the operator may raise it', () => {
    expect(statementTimeoutMs(loadSettings({ env: {} }))).toBe(300_000)
    expect(statementTimeoutMs(loadSettings({ env: { GINGR_SYNC_STATEMENT_TIMEOUT: '3600' } }))).toBe(3_600_000)
  })
  test('a DATABASE_URL that sets its own statement timeout keeps it; GINGR_SYNC_STATEMENT_TIMEOUT still wins', () => {
    const url = 'postgres://u@h/d?options=-c%20statement_timeout%3D300ms'
    expect(statementTimeoutMs(loadSettings({ env: { DATABASE_URL: url } }))).toBeUndefined()
    expect(statementTimeoutMs(loadSettings({ env: { DATABASE_URL: 'postgres://u@h/d?statement_timeout=9000' } }))).toBeUndefined()
    expect(statementTimeoutMs(loadSettings({ env: { DATABASE_URL: url, GINGR_SYNC_STATEMENT_TIMEOUT: '60' } }))).toBe(60_000)
  })
  test('the whole run may take 55 minutes by default: --max-runtime, then GINGR_SYNC_MAX_RUNTIME', () => {
    expect(maxRuntimeMs(loadSettings({ env: {} }), undefined)).toBe(3_300_000)
    expect(maxRuntimeMs(loadSettings({ env: { GINGR_SYNC_MAX_RUNTIME: '600' } }), undefined)).toBe(600_000)
    expect(maxRuntimeMs(loadSettings({ env: { GINGR_SYNC_MAX_RUNTIME: '600' } }), '60')).toBe(60_000)
  })
})
