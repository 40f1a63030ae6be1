/**
 * The report's sections on scale (issue 14): many tenants against a slow Gingr, and what a
 * database on another host costs gingr-sync and the naive way. Rendered into BENCHMARKS.md by
 * report.ts, with the targets they check.
 */
import { PRODUCTION_TIMING } from '../src/timing.ts'
import type { ManyMode, ManyResult } from './many.ts'
import type { PathRuns, RemoteResult, Runs } from './remote.ts'
import { sameOrList, spread } from './stats.ts'

export interface Check {
  target: string
  measured: string
  met: boolean | null
}

const count = (n: number) => Math.round(n).toLocaleString('en-US')
const seconds = (ms: number) =>
  ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
const ratio = (x: number) => (x >= 10 ? `${Math.round(x)}×` : `${x.toFixed(1)}×`)
const median = (values: readonly number[]) => spread(values).median
const timing = (values: readonly number[]) => {
  const s = spread(values)
  return s.runs > 1 ? `${seconds(s.median)} (${seconds(s.min)}–${seconds(s.max)})` : seconds(s.median)
}

/** The pause gingr-sync takes between two requests to one Gingr account, as the bench runs it. */
const PACE_MS = PRODUCTION_TIMING.paceMs

function outcomes(mode: ManyMode): string {
  return Object.entries(mode.outcomes)
    .map(([status, n]) => `${count(n)} ${status}`)
    .join(', ')
}

function manyTable(many: ManyResult): string {
  const [serial] = many.modes
  const rows = [
    '| mode | wall time | vs serial | tenants synced | synced twice | outcomes (--json) | Gingr requests | peak RSS per process | peak PostgreSQL connections |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  for (const mode of many.modes) {
    if (mode.unavailable) {
      rows.push(`| ${mode.name} | ${mode.unavailable} | | | | | | | |`)
      continue
    }
    const speedup = serial && mode !== serial ? ratio(serial.wallMs / mode.wallMs) : ''
    rows.push(
      `| ${mode.name} | ${seconds(mode.wallMs)} | ${speedup} | ${count(mode.tenantsSynced)} | ${count(mode.syncedTwice)} | ${outcomes(mode)} ` +
        `| ${count(mode.gingrRequests)} | ${mode.peakRssKb.map((kb) => `${Math.round(kb / 1024)} MB`).join(' + ')} | ${mode.peakConnections} |`,
    )
  }
  return rows.join('\n')
}

export function manySection(many: ManyResult): string {
  const { plan } = many
  const [serial] = many.modes
  const perTenant = serial && serial.tenantsSynced > 0 ? serial.gingrRequests / serial.tenantsSynced : 3
  const waiting = plan.tenants * (perTenant * plan.latencyMs + (perTenant - 1) * PACE_MS)
  return `## Many tenants against a slow Gingr

The binary as cron runs it, over ${count(plan.tenants)} tenants, each with a Gingr account of its own (a simulator of
its own: its own subdomain, key and base URL, given in a \`--config\` file; ${plan.reservations} reservations generated),
every Gingr request answered after ${plan.latencyMs} ms, as a Gingr across the internet answers. Each mode starts
from a fresh database holding the tenants; the processes of a mode are started at the same moment, as
two hosts' cron jobs are. Tenants synced are counted in \`gingr_sync_runs\` (successful hourly runs),
Gingr requests by the simulators, connections by polling \`pg_stat_activity\` every 20 ms (the
database's sessions whose \`application_name\` is \`gingr-sync\`).

${manyTable(many)}

A tenant's first sync makes ${sameOrList([perTenant])} requests (the window's two chunks and the owner refresh) with a pause of ${PACE_MS} ms between
them, so the serial run waits on Gingr for about ${seconds(waiting)} whatever the machine: its wall time is that
wait plus each tenant's own work. Tenants in parallel overlap the waits; the database's work per
tenant (one transaction of a few dozen rows) is small beside them.`
}

export function manyChecks(many: ManyResult | undefined): Check[] {
  if (!many) return []
  const [serial, concurrent, two] = many.modes
  const tenants = count(many.plan.tenants)
  const result: Check[] = []
  if (serial) {
    result.push({
      target: `Many tenants, serial: every one of ${tenants} synced, none twice`,
      measured: `${count(serial.tenantsSynced)} synced, ${count(serial.syncedTwice)} twice`,
      met: serial.tenantsSynced === many.plan.tenants && serial.syncedTwice === 0,
    })
  }
  if (serial && concurrent) {
    const target = `Many tenants (${tenants}): ${concurrent.name} at least 6× faster than serial`
    result.push(
      concurrent.unavailable
        ? { target, measured: concurrent.unavailable, met: null }
        : { target, measured: ratio(serial.wallMs / concurrent.wallMs), met: serial.wallMs / concurrent.wallMs >= 6 },
    )
  }
  if (two) {
    const target = `Many tenants: ${two.name}: every tenant synced, none twice`
    result.push(
      two.unavailable
        ? { target, measured: two.unavailable, met: null }
        : {
            target,
            measured: `${count(two.tenantsSynced)} synced, ${count(two.syncedTwice)} twice`,
            met: two.tenantsSynced === many.plan.tenants && two.syncedTwice === 0,
          },
    )
  }
  if (serial && two && !two.unavailable) {
    // A tenant is claimed before its fetch: a host that loses the claim asks Gingr nothing for it.
    result.push({
      target: `Many tenants: ${two.name}: no more Gingr requests than one process`,
      measured: `${count(two.gingrRequests)} against ${count(serial.gingrRequests)} serially`,
      met: two.gingrRequests <= serial.gingrRequests,
    })
  }
  for (const mode of [concurrent, two]) {
    if (!mode || mode.unavailable || mode.concurrency === null) continue
    const limit = mode.processes * (mode.concurrency + 1)
    result.push({
      target: `Many tenants: ${mode.name}: at most N+1 connections per process`,
      measured: `${mode.peakConnections} at once (limit ${limit})`,
      met: mode.peakConnections <= limit,
    })
  }
  return result
}

export function remoteSection(remote: RemoteResult): string {
  const added = remote.roundTrip.linkMs - remote.roundTrip.directMs
  const pick = (name: string, runs: (path: PathRuns) => Runs) => ({ name, direct: runs(remote.direct), link: runs(remote.link) })
  const rows = [
    pick('gingr-sync first sync (whole process, spawn to exit)', (path) => path.first),
    pick('gingr-sync unchanged rerun', (path) => path.unchanged),
    pick('the naive way, writes on an empty database', (path) => path.naive.first),
    pick('the naive way, rerun', (path) => path.naive.rerun),
  ]
  const table = [
    `| run (${count(remote.fetched)} reservations) | direct, median (range) | behind the link, median (range) | added | statements | added ÷ statements |`,
    '|---|---|---|---|---|---|',
    ...rows.map((row) => {
      const extra = median(row.link.ms) - median(row.direct.ms)
      return (
        `| ${row.name} | ${timing(row.direct.ms)} | ${timing(row.link.ms)} | ${extra >= 0 ? '+' : '−'}${seconds(Math.abs(extra))} ` +
        `| ${count(row.link.statements)} | ${(extra / row.link.statements).toFixed(2)} ms |`
      )
    }),
  ].join('\n')
  const [sync, , naive] = rows
  const ratioThere = median(naive!.link.ms) / median(sync!.link.ms)
  const ratioHere = median(naive!.direct.ms) / median(sync!.direct.ms)
  return `## What a remote database costs

One window, one server, reached directly and through a link that holds every chunk ${remote.plan.oneWayMs} ms each way
(bench/slow-link.ts), the runs of both taken in turn so that they meet the same load. Measured, a
round trip (\`SELECT 1\` on an open connection, median of 200) took ${remote.roundTrip.linkMs.toFixed(2)} ms through the link against
${remote.roundTrip.directMs.toFixed(2)} ms direct: the link adds ${added.toFixed(2)} ms to each. The binary ran as cron runs it, its \`DATABASE_URL\`
pointing at the link or not; the naive way ran in the bench process, over a connection of either.

${table}

The naive way waits for each statement's answer before it sends the next: ${count(naive!.link.statements)} statements are
${count(naive!.link.statements)} round trips, so its cost grows with the window times the round trip. gingr-sync sends a fixed
number of statements per tenant whatever the window (${sync!.link.statements} here), streams the window with COPY
without waiting row by row, and pays the round trip only for those, for the few queries of its
start (settings, schema check, tenant list) and for connecting (TCP and the password exchange);
what it adds beyond those round trips is the window itself, several MB of COPY data that the relay
passes on one batch per hold, as a link of limited bandwidth would. The naive way's writes alone took ${ratio(ratioThere)} gingr-sync's whole run behind the link, against ${ratio(ratioHere)} direct.

A real netem link (\`ip netns\`, a veth pair, \`tc qdisc ... netem delay 0.5ms\` on each end) was the
first choice; this machine's kernel is built without netem (\`CONFIG_NET_SCH_NETEM\` is not set) and
none of its queueing disciplines can delay, so the link is a relay in a process of its own that
delays only the connections made to it.`
}
