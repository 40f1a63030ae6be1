/**
 * How long JSON.parse + valibot validation of a large /reservations answer takes, and what it
 * costs in memory. The payload comes from the simulator's generator (realistic notes, HTML, the
 * odd 30 KB note). Each measurement runs in a fresh child process, because the hourly sync is a
 * fresh process too (the cold run, before the JIT has warmed up, is the one that counts) and so
 * that RSS figures are not inflated by the generator. Three children; the median is printed with
 * the range, and the load average, since a shared machine can double the figures.
 *
 *   bun bench/validate.ts [reservations=10000]
 */
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'
import { Envelope, parseRecords, Reservation } from '../src/gingr/schemas.ts'
import { startSimulator } from '../src/simulator/index.ts'

const MB = 1024 * 1024
const WARM_RUNS = 5
const CHILDREN = 3

interface Measurement {
  records: number
  invalid: number
  parseMs: number
  validateMs: number
  /** CPU time of the cold parse + validate, all threads (the GC runs beside the main thread). */
  cpuMs: number
  warmParseMs: number
  warmValidateMs: number
  rssStart: number
  rssWithText: number
  rssAfter: number
  rssPeak: number
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

function parseAndValidate(text: string): { parseMs: number; validateMs: number; records: number; invalid: number } {
  const started = performance.now()
  const json: unknown = JSON.parse(text)
  const parsed = performance.now()
  const { records, invalid } = parseRecords(Reservation, v.parse(Envelope, json).data)
  const validated = performance.now()
  return { parseMs: parsed - started, validateMs: validated - parsed, records: records.length, invalid: invalid.length }
}

/** The child: read the payload, measure once cold, then a few warm runs. */
async function measure(path: string): Promise<void> {
  Bun.gc(true)
  const rssStart = process.memoryUsage.rss()
  const text = await Bun.file(path).text()
  const rssWithText = process.memoryUsage.rss()
  const cpu = process.cpuUsage()
  const cold = parseAndValidate(text)
  const cpuUsed = process.cpuUsage(cpu)
  const rssAfter = process.memoryUsage.rss()
  const rssPeak = process.resourceUsage().maxRSS * 1024
  const warm = Array.from({ length: WARM_RUNS }, () => parseAndValidate(text))
  const result: Measurement = {
    records: cold.records,
    invalid: cold.invalid,
    parseMs: cold.parseMs,
    validateMs: cold.validateMs,
    cpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
    warmParseMs: median(warm.map((run) => run.parseMs)),
    warmValidateMs: median(warm.map((run) => run.validateMs)),
    rssStart,
    rssWithText,
    rssAfter,
    rssPeak,
  }
  process.stdout.write(JSON.stringify(result))
}

/** The parent: generate the payload Gingr would send, keyed by reservation id. */
async function main(count: number): Promise<void> {
  const generating = performance.now()
  const sim = await startSimulator({ seed: 1, reservations: count, owners: Math.ceil(count / 3), animals: Math.ceil(count / 2) })
  await sim.stop()
  const body = JSON.stringify({ success: true, error: false, data: Object.fromEntries(sim.account.reservations) })
  const path = join(tmpdir(), `gingr-sync-bench-${process.pid}.json`)
  await Bun.write(path, body)
  const generatedMs = performance.now() - generating

  const runs: Measurement[] = []
  for (let i = 0; i < CHILDREN; i += 1) runs.push(await measureInChild(path))
  await Bun.file(path).delete()

  /** "median (min–max)" of one figure over the children. */
  const spread = (pick: (m: Measurement) => number, unit: number, suffix: string): string => {
    const values = runs.map(pick).map((value) => value / unit)
    return `${median(values).toFixed(0)} ${suffix} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`
  }
  const first = runs[0] as Measurement
  const rows: Array<[string, string]> = [
    ['payload', `${count} reservations, ${(body.length / MB).toFixed(1)} MB of JSON (generated in ${generatedMs.toFixed(0)} ms)`],
    ['valid / invalid', `${first.records} / ${first.invalid}`],
    ['JSON.parse, cold', spread((m) => m.parseMs, 1, 'ms')],
    ['validation, cold', spread((m) => m.validateMs, 1, 'ms')],
    ['CPU time of both, cold', spread((m) => m.cpuMs, 1, 'ms')],
    ['JSON.parse, warm', spread((m) => m.warmParseMs, 1, 'ms')],
    ['validation, warm', spread((m) => m.warmValidateMs, 1, 'ms')],
    ['RSS at start', spread((m) => m.rssStart, MB, 'MB')],
    ['RSS with the text read', spread((m) => m.rssWithText, MB, 'MB')],
    ['RSS after parse + validate', spread((m) => m.rssAfter, MB, 'MB')],
    ['peak RSS', spread((m) => m.rssPeak, MB, 'MB')],
    ['load average (1 min)', `${loadavg()[0]?.toFixed(2)} on ${navigator.hardwareConcurrency} CPUs`],
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`)
}

async function measureInChild(path: string): Promise<Measurement> {
  const child = Bun.spawn([process.execPath, import.meta.path, '--measure', path], { stdout: 'pipe', stderr: 'inherit' })
  const output = await new Response(child.stdout).text()
  if ((await child.exited) !== 0) throw new Error(`the measuring process exited with ${child.exitCode}`)
  return JSON.parse(output) as Measurement
}

const [flag, path] = process.argv.slice(2)
if (flag === '--measure' && path !== undefined) await measure(path)
else await main(Number(flag ?? 10_000))
