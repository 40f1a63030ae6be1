/**
 * The soak (RELIABILITY.md): a model-based test of "the database ends equal to Gingr's truth".
 * One tenant is synced again and again while its Gingr account changes at random (new, changed,
 * moved, checked-in/out and cancelled stays, new owners and animals) and a random fault from the
 * matrix hits each run. After every run the model's invariant is checked:
 *   - a run that failed or found the tenant locked wrote nothing (every row keeps its version);
 *   - a run that synced left the window equal to Gingr, field by field, and did not rewrite a
 *     reservation whose Gingr record had not changed since the last sync.
 * After a last clean sync the window equals Gingr exactly, and no row stands for a stay Gingr
 * does not know. Everything random comes from one seed: a failure names it, and the same seed
 * replays the same changes and faults.
 *
 * Runs are in-process (`syncTenant`) for speed; every `binaryEvery`-th run is the compiled binary.
 * Stays are only moved inside the window: one moved out of it is not Gingr's answer any more, so
 * the sync cannot see the move (RELIABILITY.md lists it among the limits).
 */
import { connect, type Sql } from '../src/db/connect.ts'
import type { FaultRule, Simulator, WireReservation } from '../src/simulator/index.ts'
import { startSimulator } from '../src/simulator/index.ts'
import { Random } from '../src/simulator/random.ts'
import { syncTenant } from '../src/sync/run.ts'
import { syncWindow } from '../src/sync/window.ts'
import { runBinary } from './_binary.ts'
import { migratedDatabase, reserveConnection, type TestDatabase } from './_db.ts'
import { snapshot, waitForLock, waitForUnlock } from './_faults.ts'
import { differencesFromGingr, expectedReservation, storedReservations } from './_truth.ts'
import { insertTenant } from './fixtures/tailtown.ts'

const ZONE = 'America/Denver'
const TENANT = 'soak-tenant'
const HOUR = 3_600_000

export interface SoakOptions {
  seed: number
  iterations: number
  /** Every n-th run is the compiled binary (with a fault it can take cheaply); 0 = none. */
  binaryEvery?: number
  /** Told one line per run. */
  log?: (line: string) => void
}

export type Status = 'synced' | 'failed' | 'locked'

export interface SoakReport {
  seed: number
  iterations: number
  durationMs: number
  /** Runs per outcome, and per fault. */
  outcomes: Record<Status, number>
  faults: Record<string, number>
  mutations: number
  binaryRuns: number
  /** Reservations in the window at the end, all equal to Gingr's. */
  reservations: number
}

interface Outcome {
  status: Status
  invalid: number
  error?: string
}

/** What one run is given: the sync itself (in-process or the binary), and the bed around it. */
interface Run {
  sim: Simulator
  db: TestDatabase
  iteration: number
  binary: boolean
  sync(overrides?: { sql?: Sql; timeoutMs?: number; env?: Record<string, string> }): Promise<Outcome>
  /** A second pool whose statements time out after 300 ms. */
  timed: Sql
}

interface Scenario {
  name: string
  weight: number
  expect: Status
  /** Records skipped as invalid, yet synced: exit 3. */
  invalid?: boolean
  /**
   * Also run through the binary (every binaryEvery-th run). False where the binary is slow (its
   * --timeout is at least 1 s) or was, when its retries backed off from 1 s: kept as it was, so that
   * a seed replays the runs it always did.
   */
  binary: boolean
  run(run: Run): Promise<Outcome>
}

/** Gingr answers with these faults for the length of one run. */
function withFaults(
  name: string,
  weight: number,
  expect: Status,
  binary: boolean,
  rules: () => FaultRule[],
  extra: { invalid?: boolean; timeoutMs?: number } = {},
): Scenario {
  return {
    name,
    weight,
    expect,
    binary,
    invalid: extra.invalid,
    run: async (run) => {
      for (const rule of rules()) run.sim.faults.add(rule)
      try {
        return await run.sync({ timeoutMs: extra.timeoutMs })
      } finally {
        run.sim.faults.clear()
      }
    },
  }
}

const reservations = '/reservations'
const once = (fault: FaultRule['fault']): FaultRule[] => [{ endpoint: reservations, times: 1, fault }]
const always = (fault: FaultRule['fault']): FaultRule[] => [{ endpoint: reservations, fault }]

/** Holds the tenant's row in a transaction of the bed's own, so that a run blocks on its stamp. */
async function holdTenantRow(sql: Sql): Promise<() => Promise<void>> {
  const holder = await reserveConnection(sql)
  await holder`BEGIN`
  await holder`SELECT 1 FROM tenants WHERE id = ${TENANT} FOR UPDATE`
  let released = false
  return async () => {
    if (released) return
    released = true
    await holder`ROLLBACK`
    holder.release()
  }
}

const SCENARIOS: Scenario[] = [
  { name: 'none', weight: 12, expect: 'synced', binary: true, run: (run) => run.sync() },
  withFaults('500 once', 4, 'synced', true, () => once({ kind: 'status', status: 500 })),
  withFaults('429 Retry-After 0 once', 3, 'synced', true, () => once({ kind: 'rate-limit', retryAfter: 0 })),
  withFaults('503 forever', 3, 'failed', false, () => always({ kind: 'status', status: 503 })),
  withFaults('502 on the second chunk', 3, 'failed', false, () => [
    {
      endpoint: reservations,
      when: (req) => req.params.start_date !== window().from,
      fault: { kind: 'status', status: 502 },
    },
  ]),
  withFaults('hang', 1, 'failed', false, () => always({ kind: 'hang' }), { timeoutMs: 100 }),
  withFaults('delay 100 ms', 2, 'synced', false, () => once({ kind: 'delay', ms: 100 })),
  withFaults('html', 2, 'failed', true, () => always({ kind: 'html' })),
  withFaults('json error', 2, 'failed', true, () => always({ kind: 'json-error', message: 'Soak says no.' })),
  withFaults('truncated forever', 2, 'failed', false, () => always({ kind: 'truncated' })),
  withFaults('truncated once', 2, 'synced', false, () => once({ kind: 'truncated' })),
  withFaults('php notice once', 2, 'synced', true, () => once({ kind: 'malformed' })),
  withFaults('invalid records', 3, 'synced', true, () => once({ kind: 'invalid-records', count: 2 }), { invalid: true }),
  withFaults('duplicate ids', 3, 'synced', true, () => always({ kind: 'duplicate-ids' })),
  withFaults('numeric ids', 3, 'synced', true, () => always({ kind: 'numeric-ids' })),
  withFaults('array data', 2, 'synced', true, () => always({ kind: 'array-data' })),
  withFaults('endless answer', 1, 'failed', true, () => always({ kind: 'endless' })),
  withFaults('gzip bomb', 1, 'failed', false, () => always({ kind: 'gzip-bomb', megabytes: 16 })),
  withFaults('an envelope without data', 1, 'failed', true, () => always({ kind: 'status', status: 200, body: {} })),
  {
    name: 'lock held by another run',
    weight: 3,
    expect: 'locked',
    binary: true,
    run: async (run) => {
      const other = await reserveConnection(run.db.sql)
      try {
        await other`SELECT pg_advisory_lock(hashtext('gingr-sync'), hashtext(${TENANT}))`
        return await run.sync()
      } finally {
        await other`SELECT pg_advisory_unlock(hashtext('gingr-sync'), hashtext(${TENANT}))`
        other.release()
      }
    },
  },
  {
    name: 'statement timeout',
    weight: 2,
    expect: 'failed',
    binary: true,
    run: async (run) => {
      const release = await holdTenantRow(run.db.sql)
      try {
        return await run.sync({ sql: run.timed, env: { GINGR_SYNC_STATEMENT_TIMEOUT: '1' } })
      } finally {
        await release()
      }
    },
  },
  {
    name: 'backend terminated',
    weight: 3,
    expect: 'failed',
    binary: true,
    run: async (run) => {
      const release = await holdTenantRow(run.db.sql)
      try {
        const running = run.sync()
        const pid = await waitForLock(run.db.sql, TENANT)
        await run.db.sql`SELECT pg_terminate_backend(${pid})`
        await release()
        const outcome = await running
        await waitForUnlock(run.db.sql, TENANT)
        return outcome
      } finally {
        await release()
      }
    },
  },
  {
    name: 'check constraint rejects one stay',
    weight: 2,
    expect: 'failed',
    binary: true,
    run: async (run) => {
      const [target] = inWindow(run.sim)
      if (!target) return run.sync()
      // A note of this run's own: the one planted by an earlier run is in the table by now.
      const note = `soak-reject-${run.iteration}`
      run.sim.account.changeReservation(target.reservation_id, { notes: { ...target.notes, reservation_notes: note } })
      await run.db.sql`ALTER TABLE reservations ADD CONSTRAINT soak_reject CHECK (notes IS DISTINCT FROM ${run.db.sql.unsafe(`'${note}'`)})`
      try {
        return await run.sync()
      } finally {
        await run.db.sql`ALTER TABLE reservations DROP CONSTRAINT soak_reject`
      }
    },
  },
  {
    name: 'a poison record (an end in year 10000 UTC)',
    weight: 2,
    expect: 'synced',
    invalid: true,
    binary: true,
    run: async (run) => {
      const [target] = inWindow(run.sim)
      if (!target) return run.sync()
      // Valid JSON of the right type that PostgreSQL cannot store: skipped, the rest synced. Gingr
      // is then mended and synced again, so that the check after this run (the window equals
      // Gingr) holds the skipped record to its real value too.
      const { end_date } = target
      run.sim.account.changeReservation(target.reservation_id, { end_date: '9999-12-31T23:59:59-07:00' })
      let poisoned: Outcome
      try {
        poisoned = await run.sync()
      } finally {
        run.sim.account.changeReservation(target.reservation_id, { end_date })
      }
      const mended = await run.sync()
      if (mended.status !== 'synced' || mended.invalid > 0) throw new Error(`the sync after mending the poison record: ${mended.status}`)
      return poisoned
    },
  },
]

const window = () => syncWindow(ZONE, 7, 30)
const inWindow = (sim: Simulator) => sim.account.matching(window().from, window().to)

// --- Gingr's account changing between runs --------------------------------------------------

const NOTES = [
  null,
  '',
  '   ',
  'Allergic to chicken.',
  `O'Brien's dog "Max"`,
  'emoji 🐕‍🦺 and עברית',
  'NUL\u0000inside',
  `'); DROP TABLE reservations;--`,
]

/** An instant well inside the window, so that the stay stays in Gingr's answer. */
function instantInWindow(rng: Random): number {
  const { from, to } = window()
  const low = Date.parse(`${from}T00:00:00Z`) + 36 * HOUR
  const high = Date.parse(`${to}T00:00:00Z`) - 4 * 24 * HOUR
  return low + Math.floor(rng.next() * ((high - low) / (15 * 60_000))) * 15 * 60_000
}

type Mutation =
  | 'add'
  | 'notes'
  | 'move'
  | 'checkIn'
  | 'checkOut'
  | 'cancel'
  | 'owner'
  | 'type'
  | 'delete'
  | 'moveOut'
  | 'moveBack'
  | 'reappear'
const MUTATIONS: Record<Mutation, number> = {
  add: 4,
  notes: 3,
  move: 3,
  checkIn: 2,
  checkOut: 2,
  cancel: 2,
  owner: 2,
  type: 1,
  delete: 1,
  moveOut: 1,
  moveBack: 1,
  reappear: 1,
}

/** Stays the soak deleted in Gingr, so that one can come back (the same record, as if restored). */
const deletedStays = new Map<Simulator, Map<string, WireReservation>>()

function mutate(sim: Simulator, rng: Random): void {
  const account = sim.account
  const stays = inWindow(sim)
  const some = (filter: (r: WireReservation) => boolean) => {
    const found = stays.filter(filter)
    return found.length > 0 ? rng.pick(found) : undefined
  }
  const kind = rng.weighted(MUTATIONS)
  const start = instantInWindow(rng)
  const length = rng.int(1, 72) * HOUR
  switch (kind) {
    case 'add': {
      const animal = rng.pick([...account.animals.keys()])
      account.addReservation({
        animalId: animal,
        typeId: rng.pick([...account.reservationTypes.keys()]),
        start: new Date(start),
        end: new Date(start + length),
        notes: rng.pick(NOTES),
      })
      return
    }
    case 'notes': {
      const r = some(() => true)
      if (r) account.changeReservation(r.reservation_id, { notes: { ...r.notes, reservation_notes: rng.pick(NOTES) } })
      return
    }
    case 'move': {
      const r = some(() => true)
      if (r) account.moveReservation(r.reservation_id, new Date(start), new Date(start + length))
      return
    }
    case 'checkIn': {
      const r = some((s) => !s.check_in_date && !s.cancelled_date)
      if (r) account.checkIn(r.reservation_id)
      return
    }
    case 'checkOut': {
      const r = some((s) => Boolean(s.check_in_date) && !s.check_out_date && !s.cancelled_date)
      if (r) account.checkOut(r.reservation_id)
      return
    }
    case 'cancel': {
      const r = some((s) => !s.cancelled_date)
      if (r) account.cancelReservation(r.reservation_id)
      return
    }
    case 'owner': {
      // Sometimes with an email another owner has: the customer gets a placeholder address.
      const shared = rng.chance(0.3) ? rng.pick([...account.owners.values()]).email : `soak-${account.owners.size}@example.test`
      const owner = account.addOwner({
        first_name: rng.pick(['Ana', '', 'Zoë']),
        last_name: rng.pick(['Lopez', "O'Neil", 'שרה']),
        email: shared,
      })
      const animal = account.addAnimal(owner.id, { first_name: rng.pick(['Rex', '', 'Miso 🐈']) })
      account.addReservation({ animalId: animal.id, start: new Date(start), end: new Date(start + length) })
      return
    }
    case 'type': {
      const r = some(() => true)
      const type = account.reservationTypes.get(rng.pick([...account.reservationTypes.keys()]))
      if (r && type) account.changeReservation(r.reservation_id, { reservation_type: { id: type.id, type: type.type } })
      return
    }
    case 'delete': {
      const r = some(() => true)
      if (!r) return
      const deleted = deletedStays.get(sim) ?? new Map<string, WireReservation>()
      deletedStays.set(sim, deleted.set(r.reservation_id, r))
      account.deleteReservation(r.reservation_id)
      return
    }
    case 'moveOut': {
      // Weeks past the window's end: the next sync finds it only by looking it up.
      const r = some(() => true)
      const later = Date.parse(`${window().to}T12:00:00Z`) + rng.int(20, 80) * 24 * HOUR
      if (r) account.moveReservation(r.reservation_id, new Date(later), new Date(later + length))
      return
    }
    case 'moveBack': {
      // A stay an earlier moveOut took past the window's end.
      const outside = [...account.reservations.values()].filter((s) => s.start_date.slice(0, 10) > window().to)
      if (outside.length > 0) account.moveReservation(rng.pick(outside).reservation_id, new Date(start), new Date(start + length))
      return
    }
    case 'reappear': {
      const deleted = deletedStays.get(sim)
      const id = deleted && deleted.size > 0 ? rng.pick([...deleted.keys()]) : undefined
      if (id === undefined || !deleted) return
      account.reservations.set(id, deleted.get(id)!)
      deleted.delete(id)
      return
    }
  }
}

// --- The runs -------------------------------------------------------------------------------

async function reservationVersions(sql: Sql): Promise<Map<string, string>> {
  const rows = await sql<{ externalId: string; xmin: string }[]>`
    SELECT "externalId", xmin::text FROM reservations WHERE "tenantId" = ${TENANT}`
  return new Map(rows.map((row) => [row.externalId, row.xmin]))
}

/** The soak's accounts answer in well under this; its oversized answers go far past it. */
const MAX_RESPONSE_MB = 4

function inProcess(sim: Simulator, pool: Sql) {
  return async (overrides: { sql?: Sql; timeoutMs?: number } = {}): Promise<Outcome> => {
    const result = await syncTenant({
      sql: overrides.sql ?? pool,
      tenant: { id: TENANT, businessName: 'Soak Kennels' },
      gingr: {
        subdomain: 'soak',
        apiKey: sim.apiKey,
        baseUrl: sim.baseUrl,
        timeZone: ZONE,
        paceMs: 0,
        backoffBaseMs: 5,
        backoffMaxMs: 20,
        timeoutMs: overrides.timeoutMs ?? 5_000,
        maxResponseBytes: MAX_RESPONSE_MB * 1024 * 1024,
      },
      window: window(),
      dryRun: false,
    })
    return { status: result.status, invalid: result.invalid.length, ...(result.error ? { error: result.error } : {}) }
  }
}

function throughBinary(sim: Simulator, db: TestDatabase) {
  return async (overrides: { env?: Record<string, string> } = {}): Promise<Outcome> => {
    const env = {
      DATABASE_URL: db.url,
      GINGR_API_KEY: sim.apiKey,
      GINGR_BASE_URL: sim.baseUrl,
      GINGR_SUBDOMAIN: 'soak',
      GINGR_SYNC_MAX_RESPONSE_MB: String(MAX_RESPONSE_MB),
      ...overrides.env,
    }
    const result = await runBinary(['--tenant', TENANT, '--json'], env)
    const report = JSON.parse(result.stdout || '{}') as { tenants?: { status: Status; invalid: unknown[]; error?: string }[] }
    const tenant = report.tenants?.[0]
    const status = tenant?.status ?? 'failed'
    const expectedCode = status === 'failed' ? 1 : (tenant?.invalid.length ?? 0) > 0 ? 3 : 0
    if (result.code !== expectedCode) throw new Error(`the binary said ${status} but exited ${result.code}: ${result.stderr.slice(-500)}`)
    return { status, invalid: tenant?.invalid.length ?? 0, ...(tenant?.error ? { error: tenant.error } : {}) }
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now()
  const rng = new Random(options.seed, 'soak')
  const sim = await startSimulator({ seed: options.seed, reservations: 100, owners: 40, animals: 60, timeZone: ZONE })
  const db = await migratedDatabase()
  const pool = connect(db.url)
  const timed = connect(db.url, { statementTimeoutMs: 300 })
  const report: SoakReport = {
    seed: options.seed,
    iterations: options.iterations,
    durationMs: 0,
    outcomes: { synced: 0, failed: 0, locked: 0 },
    faults: {},
    mutations: 0,
    binaryRuns: 0,
    reservations: 0,
  }
  const fail = (iteration: number | 'final', scenario: string, problem: string, details: unknown[] = []): never => {
    throw new Error(
      `Soak seed ${options.seed} failed at run ${iteration} (${scenario}): ${problem}${details.length ? `\n  ${details.slice(0, 10).join('\n  ')}` : ''}\nReplay: bun run soak -- --seed ${options.seed} --iterations ${options.iterations}`,
    )
  }
  try {
    await insertTenant(db.sql, { id: TENANT, businessName: 'Soak Kennels', timezone: ZONE })
    let lastSynced = new Map<string, WireReservation>()
    const weights = Object.fromEntries(SCENARIOS.map((s) => [s.name, s.weight]))
    const binaryWeights = Object.fromEntries(SCENARIOS.filter((s) => s.binary).map((s) => [s.name, s.weight]))

    for (let i = 1; i <= options.iterations; i++) {
      const changes = rng.int(0, 4)
      for (let m = 0; m < changes; m++) mutate(sim, rng)
      report.mutations += changes
      const binary = Boolean(options.binaryEvery) && i % (options.binaryEvery ?? 1) === 0
      const picked = rng.weighted(binary ? binaryWeights : weights)
      const scenario = SCENARIOS.find((s) => s.name === picked)!
      const before = await snapshot(db.sql, TENANT)
      const versions = await reservationVersions(db.sql)
      const runStarted = performance.now()
      const outcome = await scenario
        .run({
          sim,
          db,
          iteration: i,
          binary,
          timed,
          sync: binary ? throughBinary(sim, db) : inProcess(sim, pool),
        })
        .catch((error: unknown) => fail(i, scenario.name, `the run threw: ${error instanceof Error ? error.message : String(error)}`))
      if (binary) report.binaryRuns++
      report.outcomes[outcome.status]++
      report.faults[scenario.name] = (report.faults[scenario.name] ?? 0) + 1
      options.log?.(
        `run ${i}${binary ? ' (binary)' : ''}: ${changes} changes, ${scenario.name} → ${outcome.status}${outcome.invalid ? ` (${outcome.invalid} invalid)` : ''} in ${Math.round(performance.now() - runStarted)} ms`,
      )

      if (outcome.status !== scenario.expect || Boolean(scenario.invalid) !== outcome.invalid > 0) {
        fail(
          i,
          scenario.name,
          `expected ${scenario.expect}${scenario.invalid ? ' with invalid records' : ''}, got ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`,
        )
      }
      if (outcome.status !== 'synced') {
        const after = await snapshot(db.sql, TENANT)
        if (after.join('\n') !== before.join('\n'))
          fail(
            i,
            scenario.name,
            `a ${outcome.status} run changed rows`,
            after.filter((v) => !before.includes(v)),
          )
        continue
      }
      const truth = inWindow(sim)
      const found = await differencesFromGingr(db.sql, TENANT, truth)
      if (found.length > 0) fail(i, scenario.name, 'the window differs from Gingr', found)
      const after = await reservationVersions(db.sql)
      const rewritten = truth.filter(
        (r) =>
          lastSynced.get(r.reservation_id) === r &&
          versions.has(r.reservation_id) &&
          after.get(r.reservation_id) !== versions.get(r.reservation_id),
      )
      if (rewritten.length > 0)
        fail(
          i,
          scenario.name,
          'unchanged reservations were rewritten',
          rewritten.map((r) => r.reservation_id),
        )
      lastSynced = new Map(truth.map((r) => [r.reservation_id, r]))
    }

    // The last word: a clean run, then the window equals Gingr and nothing stands for an unknown stay.
    sim.faults.clear()
    const last = await inProcess(sim, pool)()
    if (last.status !== 'synced') fail('final', 'none', `the clean run ended ${last.status}: ${last.error ?? ''}`)
    const truth = inWindow(sim)
    const found = await differencesFromGingr(db.sql, TENANT, truth)
    if (found.length > 0) fail('final', 'none', 'the window differs from Gingr', found)
    // Every other row: a stay Gingr deleted is cancelled; one moved out of the window has Gingr's dates.
    const stored = await storedReservations(db.sql, TENANT)
    const inTruth = new Set(truth.map((r) => r.reservation_id))
    const wrong = stored.flatMap((row) => {
      if (inTruth.has(row.externalId)) return []
      const gingr = sim.account.reservations.get(row.externalId)
      if (!gingr) return row.status === 'CANCELLED' ? [] : [`${row.externalId}: deleted in Gingr, ${row.status} here`]
      const expected = expectedReservation(gingr)
      // A stay already cancelled is no vanished one: moved out of the window, it keeps its dates here.
      if (expected.status === 'CANCELLED' && row.status === 'CANCELLED') return []
      return expected.startDate === row.startDate && expected.endDate === row.endDate && expected.status === row.status
        ? []
        : [
            `${row.externalId}: Gingr has ${expected.startDate}..${expected.endDate} ${expected.status}, here ${row.startDate}..${row.endDate} ${row.status}`,
          ]
    })
    if (wrong.length > 0) fail('final', 'none', 'rows outside the window differ from Gingr', wrong)
    report.reservations = truth.length
    report.durationMs = Math.round(performance.now() - started)
    return report
  } finally {
    // At once: a run whose backend was terminated leaves its transaction pending for good
    // (src/db/transaction.ts), and any grace period would be waited out.
    await pool.end({ timeout: 0 })
    await timed.end({ timeout: 0 })
    await sim.stop()
    await db.drop()
  }
}
