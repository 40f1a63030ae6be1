/**
 * The README is the user's manual: every command in its code blocks is run here (or names the
 * test that runs it, when it would change this machine), and every sample output is compared with
 * what the binary prints today. A command added to the README that this file does not know fails
 * the suite: the manual cannot drift from the program again.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseEnvFile, readConfigFile } from '../src/config.ts'
import { freePort } from '../src/dev/embedded-postgres.ts'
import { type RunResult, runBinary } from './_binary.ts'
import { API_KEY, type Bed, startBed, stopBed } from './_faults.ts'
import { testDir } from './_tmp.ts'

setDefaultTimeout(60_000)

const ROOT = resolve(import.meta.dir, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const TENANT = 'readme-tenant'
const dir = testDir('readme')

interface Block {
  language: string
  text: string
  /** 1-based line of the opening fence, for messages. */
  line: number
}

const blocks: Block[] = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({
  language: match[1] ?? '',
  text: match[2] ?? '',
  line: README.slice(0, match.index).split('\n').length,
}))

/** The shell commands of the README: each line of an `sh` block, comments and blank lines aside. */
const commands = blocks
  .filter((block) => block.language === 'sh' && !looksLikeEnvFile(block.text))
  .flatMap((block) => block.text.split('\n').map((line) => ({ command: withoutComment(line), line: block.line })))
  .filter(({ command }) => command !== '')

function withoutComment(line: string): string {
  return line.replace(/(^|\s)#.*$/, '').trim()
}

function looksLikeEnvFile(text: string): boolean {
  return text.split('\n').every((line) => line.trim() === '' || /^#?\s*[A-Z_]+=/.test(line.trim()))
}

/** The block right after the one holding `command`: its sample output. */
function sampleAfter(command: string): string {
  const at = blocks.findIndex((block) => block.text.includes(command))
  const sample = blocks[at + 1]
  if (!sample) throw new Error(`no sample output after "${command}"`)
  return sample.text
}

let bed: Bed
let envFile: string

beforeAll(async () => {
  bed = await startBed(TENANT)
  // The README's env file, pointed at this test's database and simulator.
  envFile = dir.write(
    'gingr-sync.env',
    Object.entries(bed.env)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n'),
  )
})
afterAll(async () => {
  await stopBed(bed)
})

/** The README's paths and placeholders, as they are on this test bed. */
function onThisBed(command: string): string[] {
  const words = command.replaceAll('/etc/gingr-sync/gingr-sync.env', envFile).replaceAll('b696b4e8-...', TENANT).split(/\s+/)
  return words[0] === 'gingr-sync' ? words.slice(1) : words
}

const runs = (command: string) => (): Promise<RunResult> => runBinary(onThisBed(command), {})

/**
 * Every command the README shows, and how it is proven: run here (and what it must print), or
 * the test file that runs it where running it here would change this machine.
 */
const RUN_HERE: Record<string, () => Promise<void>> = {
  'gingr-sync --version': async () => {
    const result = await runs('gingr-sync --version')()
    expect(result.stdout).toMatch(/^gingr-sync \d+\.\d+\.\d+ \([0-9a-f]+(-dirty)?\)\n$/)
  },
  'gingr-sync migrate --env-file /etc/gingr-sync/gingr-sync.env': async () => {
    const result = await runs('gingr-sync migrate --env-file /etc/gingr-sync/gingr-sync.env')()
    expect(result.code).toBe(0)
  },
  'gingr-sync doctor --env-file /etc/gingr-sync/gingr-sync.env': async () => {
    const result = await runs('gingr-sync doctor --env-file /etc/gingr-sync/gingr-sync.env')()
    expect(result.stdout).toContain('checks passed')
    expect(result.code).toBe(0)
  },
  'gingr-sync status --env-file /etc/gingr-sync/gingr-sync.env': async () => {
    const result = await runs('gingr-sync status --env-file /etc/gingr-sync/gingr-sync.env')()
    expect(result.stdout).toContain(`(${TENANT})`)
    expect(result.code).toBe(0)
  },
  'gingr-sync --env-file /etc/gingr-sync/gingr-sync.env --tenant b696b4e8-... --dry-run': async () => {
    const command = 'gingr-sync --env-file /etc/gingr-sync/gingr-sync.env --tenant b696b4e8-... --dry-run'
    bed.sim.account.addReservation()
    const result = await runs(command)()
    expect(result.code).toBe(0)
    expectSample(result, command)
  },
  'gingr-sync full --env-file /etc/gingr-sync/gingr-sync.env --tenant b696b4e8-... --dry-run': async () => {
    const command = 'gingr-sync full --env-file /etc/gingr-sync/gingr-sync.env --tenant b696b4e8-... --dry-run'
    const result = await runs(command)()
    expect(result.code).toBe(0)
    expectSample(result, command)
  },
  'bun run sim -- --port 8080 --reservations 500': async () => {
    const port = await freePort()
    const sim = Bun.spawn(['bun', 'run', 'sim', '--', '--port', String(port), '--reservations', '500'], {
      cwd: ROOT,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const reader = sim.stdout.getReader()
      let printed = ''
      const said = sampleLinesOf('bun run sim -- --port 8080 --reservations 500').map((line) =>
        line.replace(/^# /, '').replace('8080', String(port)),
      )
      while (!said.every((line) => printed.includes(`${line}\n`))) {
        const { done, value } = await reader.read()
        if (done) break
        printed += new TextDecoder().decode(value)
      }
      // The two settings the README says it prints, with this run's port.
      expect(said.length).toBe(2)
      for (const line of said) expect(printed).toContain(line)
      // And the README's next command, against it.
      const curl = commands.find(({ command }) => command.startsWith('curl '))
      if (!curl) throw new Error('the README no longer shows the control API')
      const body = /-d '([^']+)'/.exec(curl.command)?.[1] ?? ''
      const answer = await fetch(`http://localhost:${port}/_sim/faults`, { method: 'POST', body })
      expect(answer.ok).toBe(true)
    } finally {
      sim.kill()
      await sim.exited
    }
  },
}

/** Commands a test elsewhere runs (they install, or build for other machines): the file that proves each. */
const RUN_ELSEWHERE: Record<string, string> = {
  'bun install && bun run demo': 'test/demo.test.ts',
  'bun test': 'this very suite',
  'bun install': '.ci/run (its first step)',
  './build.sh': 'test/_binary.ts (every end-to-end test runs what it builds)',
  // Downloads a Bun runtime for each other platform (tens of MB each): run by hand before a release.
  './build.sh all': 'not the suite: by hand, before a release',
  'sudo useradd --system --home-dir /var/lib/gingr-sync --create-home --shell /usr/sbin/nologin gingr-sync':
    'test/install-cron.test.ts (a user made the same way, removed after)',
  'sudo ./install-cron.sh --user gingr-sync': 'test/install-cron.test.ts',
  './install-cron.sh': 'test/install-cron.test.ts',
  'sudo ./install-cron.sh --systemd --user gingr-sync': 'test/install-cron.test.ts',
  'sudo ./install-cron.sh': 'test/install-cron.test.ts',
  './build.sh && sudo ./install-cron.sh --user gingr-sync': 'test/install-cron.test.ts',
  'curl -X POST localhost:8080/_sim/faults -d \'{"endpoint":"/reservations","times":1,"fault":{"kind":"status","status":503}}\'':
    'this file, with "bun run sim"',
  // Reading the installed system's own log and crontab: what they show is the install's business.
  'tail -f /var/log/gingr-sync/gingr-sync.log': 'test/install-cron.test.ts (the log the entry appends to)',
  'grep -i error /var/log/gingr-sync/gingr-sync.log': 'test/faults-*.test.ts (every failure is an ERROR line)',
  'sudo crontab -u gingr-sync -l | grep gingr-sync': "test/install-cron.test.ts (the managed entry, in the user's crontab)",
}

/**
 * The sample after `command` is what it prints: each of its lines printed, each line printed in
 * it, its numbers, dates, names and ids standing for any.
 */
function expectSample(result: RunResult, command: string): void {
  const printed = result.stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.replace(/^\S+Z (INFO|WARN) {1,2}/, ''))
  const sample = sampleAfter(command).trimEnd().split('\n')
  const shapes = sample.map((line) => new RegExp(`^${shapeOf(line)}$`))
  expect(sample.filter((_, index) => !printed.some((line) => shapes[index]!.test(line)))).toEqual([])
  expect(printed.filter((line) => !shapes.some((shape) => shape.test(line)))).toEqual([])
}

/** The lines of the first sh block holding `command` that are comments: what the README says it prints. */
function sampleLinesOf(command: string): string[] {
  const block = blocks.find((candidate) => candidate.text.includes(command))
  return (block?.text ?? '').split('\n').filter((line) => line.startsWith('# '))
}

/** A sample line as a pattern: numbers, dates, the parts in parentheses and the tenant's name stand for any. */
function shapeOf(line: string): string {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace('Denver Dog Ranch', '.+')
  let shape = ''
  let last = 0
  for (const match of line.matchAll(/(\([^)]*\))|(\d{4}-\d{2}-\d{2})|(\d+(?:\.\d+)?)/g)) {
    shape += literal(line.slice(last, match.index))
    shape += match[1] ? '\\([^)]*\\)' : match[2] ? '\\d{4}-\\d{2}-\\d{2}' : '\\d+(?:\\.\\d+)?'
    last = match.index + match[0].length
  }
  return shape + literal(line.slice(last))
}

describe('every command in the README', () => {
  test('is one this file runs, or one whose test it names', () => {
    const unknown = commands.filter(({ command }) => !(command in RUN_HERE) && !(command in RUN_ELSEWHERE))
    expect(unknown.map(({ command, line }) => `README.md:${line}: ${command}`)).toEqual([])
  })

  for (const [command, file] of Object.entries(RUN_ELSEWHERE)) {
    test(`${command}: still in the README, and proven by ${file}`, () => {
      expect(commands.some((shown) => shown.command === command)).toBe(true)
      const path = /^test\/[\w.-]+\.ts|^\.ci\/run/.exec(file)?.[0]
      if (path && !path.includes('*')) expect(existsSync(join(ROOT, path))).toBe(true)
    })
  }

  for (const [command, run] of Object.entries(RUN_HERE)) {
    test(`${command}: runs as the README says`, async () => {
      expect(commands.some((shown) => shown.command === command)).toBe(true)
      await run()
    })
  }
})

describe('the README’s samples and files', () => {
  test('the env file block parses, and names only settings the binary reads', () => {
    const block = blocks.find((candidate) => candidate.language === 'sh' && looksLikeEnvFile(candidate.text))
    if (!block) throw new Error('no env file sample in the README')
    const uncommented = block.text.replace(/^# ?(?=[A-Z_]+=)/gm, '')
    const names = Object.keys(parseEnvFile(uncommented, 'README.md'))
    const source = [...new Bun.Glob('src/**/*.ts').scanSync(ROOT)].map((path) => readFileSync(join(ROOT, path), 'utf8')).join('\n')
    expect(names.filter((name) => !source.includes(name))).toEqual([])
    expect(names).toContain('DATABASE_URL')
  })

  test('the config file block is a valid config file', () => {
    const block = blocks.find((candidate) => candidate.language === 'json' && candidate.text.includes('"tenants"'))
    if (!block) throw new Error('no config file sample in the README')
    const config = readConfigFile(dir.write('tenants.json', block.text))
    expect(Object.keys(config.tenants).length).toBeGreaterThan(0)
  })

  test('the SQL that enables a tenant runs on a Tailtown database', async () => {
    const block = blocks.find((candidate) => candidate.language === 'sql' && candidate.text.includes('gingr_sync_enabled'))
    if (!block) throw new Error('no tenant-enabling SQL in the README')
    await bed.db.sql`UPDATE tenants SET gingr_sync_enabled = false WHERE id = ${TENANT}`
    await bed.db.sql.unsafe(block.text.replace('b696b4e8-...', TENANT))
    const [row] = await bed.db.sql<{ enabled: boolean }[]>`SELECT gingr_sync_enabled AS enabled FROM tenants WHERE id = ${TENANT}`
    expect(row?.enabled).toBe(true)
  })

  test('the usage block shows only flags that --help shows, for the command of each line', async () => {
    const usage = blocks.find((candidate) => candidate.text.startsWith('gingr-sync [--tenant'))
    if (!usage) throw new Error('no usage block in the README')
    const helpOf = async (command: string) => (await runBinary(command === '' ? ['--help'] : [command, '--help'], {})).stdout
    const unknown: string[] = []
    let command = ''
    for (const line of usage.text.split('\n')) {
      command = /^gingr-sync (migrate|status|doctor|full)\b/.exec(line)?.[1] ?? (line.startsWith('gingr-sync') ? '' : command)
      const help = await helpOf(command)
      for (const [flag] of line.matchAll(/--[a-z-]+/g))
        if (!help.includes(flag) && flag !== '--version') unknown.push(`${command || 'sync'} ${flag}`)
    }
    expect(unknown).toEqual([])
    expect((await runBinary(['--version'], {})).code).toBe(0)
    for (const name of ['migrate', 'status', 'doctor']) expect(usage.text).toContain(`gingr-sync ${name}`)
  })

  test('the exit codes table lists every code --help lists', async () => {
    const help = (await runBinary(['--help'], {})).stdout
    const codes = [...help.slice(help.indexOf('EXIT CODES')).matchAll(/^ {2}(\d+) /gm)].map((match) => match[1])
    expect(codes.length).toBeGreaterThan(3)
    for (const code of codes) expect(README).toContain(`| ${code} |`)
  })

  test('the key the fault beds use is not the README’s', () => {
    expect(README).not.toContain(API_KEY)
  })
})
