/**
 * Reservations that vanished from Gingr's answer for the window: moved, or deleted? A complete
 * fetch that no longer returns a stored stay may mean either, and a partial or empty answer looks
 * exactly like a mass delete, so each vanished stay is looked up in Gingr first (its animal's
 * stays, else its owner's, one call per animal or owner, paced like every call and bounded per
 * run), and cancelling is guarded:
 * - found with other dates or status: it moved; its real record is written like any update;
 * - found as stored: it never vanished (Gingr matched the range by start date): left alone;
 * - not found: deleted in Gingr, to be cancelled (or only reported: `--vanished report`), unless
 *   the account has several locations, where the look-ups answer for the API user's location
 *   only: then "not confirmed deleted", reported and never cancelled;
 * - not looked up (past the run's look-ups, or the look-up failed): deferred to the next run;
 * - the guard: more to cancel than the limit (default max(10, 10% of the window's active stays)),
 *   or an empty answer for a window that holds stays: cancel none, withhold them all, say so.
 */
import type { UnseenStay } from '../db/vanished.ts'
import { errorMessage } from '../errors.ts'
import type { GingrClient } from '../gingr/client.ts'
import type { Reservation } from '../gingr/schemas.ts'

export type VanishedMode = 'cancel' | 'report'
export const VANISHED_MODES: readonly VanishedMode[] = ['cancel', 'report']

/** Look-up calls one tenant's run may make; the rest wait for the next run (reported). */
export const MAX_LOOKUPS = 50
/** The guard's floor and share: more cancellations than max(10, 10%) in one run are withheld. */
const GUARD_FLOOR = 10
const GUARD_SHARE = 0.1

/** What became of the vanished stays; every list is of Gingr reservation ids, sorted. */
export interface VanishedReport {
  /** Stored stays of the window Gingr did not return. */
  vanished: number
  moved: string[]
  /** Deleted in Gingr and cancelled here (set once the write is done). */
  cancelled: string[]
  /** Would have been cancelled, but the guard held them back. */
  withheld: string[]
  /** Deleted in Gingr, reported only: `--vanished report`, or not confirmed (several locations). */
  reported: string[]
  /** Not looked up in this run: past MAX_LOOKUPS, or the look-up failed. */
  deferred: string[]
  /** Why the guard held cancellations back, or a look-up failed: for the log and the run history. */
  notes: string[]
}

export function emptyReport(): VanishedReport {
  return { vanished: 0, moved: [], cancelled: [], withheld: [], reported: [], deferred: [], notes: [] }
}

export interface ResolveOptions {
  client: GingrClient
  unseen: readonly UnseenStay[]
  /** The window's stays that are not cancelled, stored before this run: the guard's base. */
  active: number
  /** Gingr returned no record at all for the window. */
  emptyAnswer: boolean
  mode: VanishedMode
  /** Cancellations one run may make; default max(10, 10% of `active`). */
  maxCancel?: number
  /** How to name that limit's setting in a warning. */
  limitSetting: string
  log?: (line: string) => void
}

export interface Resolution {
  report: VanishedReport
  /** Records found by a look-up: written like the window's own (moved, or as stored). */
  found: Reservation[]
  /** Gingr ids to cancel in the run's transaction. */
  toCancel: string[]
}

export async function resolveVanished(options: ResolveOptions): Promise<Resolution> {
  const report = emptyReport()
  report.vanished = options.unseen.length
  if (options.unseen.length === 0) return { report, found: [], toCancel: [] }
  if (options.emptyAnswer) {
    report.withheld = ids(options.unseen)
    report.notes.push(
      `Gingr returned no reservation at all for a window that holds ${options.active}: nothing is cancelled on an empty answer.`,
    )
    return { report, found: [], toCancel: [] }
  }

  const singleLocation = await hasOneLocation(options.client, report)
  const found: Reservation[] = []
  const deleted: string[] = []
  const groups = groupByLookup(options.unseen)
  let calls = 0
  for (const [key, stays] of groups) {
    if (key === null || calls >= MAX_LOOKUPS) {
      report.deferred.push(...ids(stays))
      continue
    }
    calls += 1
    let records: Reservation[]
    let unreadable: Set<string>
    try {
      const answer =
        key.kind === 'animal' ? await options.client.reservationsOfAnimal(key.id) : await options.client.reservationsOfOwner(key.id)
      records = answer.records
      unreadable = new Set(answer.invalid.flatMap((record) => (record.reservationId === null ? [] : [record.reservationId])))
    } catch (error) {
      report.deferred.push(...ids(stays))
      report.notes.push(`Looking up ${key.kind} ${key.id} in Gingr failed (${errorMessage(error)}): its stays wait for the next run.`)
      continue
    }
    const byId = new Map(records.map((record) => [record.reservation_id, record]))
    for (const stay of stays) {
      const record = byId.get(stay.externalId)
      if (record) {
        found.push(record)
        if (record.start_date.getTime() !== stay.startDate.getTime() || record.end_date.getTime() !== stay.endDate.getTime())
          report.moved.push(stay.externalId)
      } else if (unreadable.has(stay.externalId)) {
        // Gingr has it, in a form that does not validate: not deleted, whatever it now says.
        report.deferred.push(stay.externalId)
        report.notes.push(`Reservation ${stay.externalId} came back from its look-up as an invalid record: left as it is.`)
      } else if (singleLocation) {
        deleted.push(stay.externalId)
      } else {
        report.reported.push(stay.externalId)
      }
    }
  }
  if (!singleLocation && report.reported.length > 0 && !report.notes.some((note) => note.startsWith("Gingr's locations"))) {
    report.notes.push(
      `${report.reported.length} not found at the API user's location of an account with several locations: not confirmed deleted, never cancelled.`,
    )
  }

  const limit = options.maxCancel ?? Math.max(GUARD_FLOOR, Math.floor(options.active * GUARD_SHARE))
  let toCancel: string[] = []
  if (deleted.length > limit) {
    report.withheld.push(...deleted)
    report.notes.push(
      `${deleted.length} reservations are gone from Gingr, more than the ${limit} one run may cancel: none cancelled. If Gingr really lost them, raise ${options.limitSetting}.`,
    )
  } else if (options.mode === 'report') {
    report.reported.push(...deleted)
  } else {
    toCancel = deleted
  }
  for (const list of [report.moved, report.withheld, report.reported, report.deferred]) list.sort()
  return { report, found, toCancel: toCancel.sort() }
}

/**
 * One call to `/get_locations`: one location, read as such, and nothing else in the answer. An
 * answer of none, or one that does not read as Gingr's `[{"value","label"}]`, counts as several, as
 * does a failure: a stay is never cancelled on a guess.
 */
async function hasOneLocation(client: GingrClient, report: VanishedReport): Promise<boolean> {
  try {
    const { records, invalid } = await client.locations()
    if (records.length === 1 && invalid.length === 0) return true
    if (records.length === 0 || invalid.length > 0) {
      report.notes.push(
        `Gingr's locations did not read as one location (${records.length} read, ${invalid.length} not): nothing is confirmed deleted in this run.`,
      )
    }
    return false
  } catch (error) {
    report.notes.push(`Gingr's locations could not be read (${errorMessage(error)}): nothing is confirmed deleted in this run.`)
    return false
  }
}

type LookupKey = { kind: 'animal' | 'owner'; id: string }

/** Stays by the animal (else the owner) to look them up by: one call answers for all of its stays. */
function groupByLookup(stays: readonly UnseenStay[]): Map<LookupKey | null, UnseenStay[]> {
  const keys = new Map<string, LookupKey | null>()
  const groups = new Map<LookupKey | null, UnseenStay[]>()
  for (const stay of stays) {
    // The legacy pets of earlier imports carry `<animal id>-tailtown`.
    const animal = stay.petExternalId?.replace(/-tailtown$/, '') || null
    const name = animal ? `animal:${animal}` : stay.customerExternalId ? `owner:${stay.customerExternalId}` : 'none'
    if (!keys.has(name)) {
      keys.set(
        name,
        animal ? { kind: 'animal', id: animal } : stay.customerExternalId ? { kind: 'owner', id: stay.customerExternalId } : null,
      )
    }
    const key = keys.get(name) ?? null
    groups.set(key, [...(groups.get(key) ?? []), stay])
  }
  return groups
}

function ids(stays: readonly UnseenStay[]): string[] {
  return stays.map((stay) => stay.externalId).sort()
}
