/**
 * The control API, for a standalone simulator driven by another process (the demo, benchmarks,
 * a shell). It lives beside /api/v1 on the same origin, needs no key and is never recorded in
 * `requests` nor subject to faults. All bodies are JSON.
 *
 *   POST   /_sim/faults    a FaultRule without `when`, plus optional `nth` (apply to the nth
 *                          request to that endpoint since start, once) → 201 { live }
 *   DELETE /_sim/faults    remove every rule → 200 { live: 0 }
 *   POST   /_sim/mutate    { action: 'add', id?, start?, end?, typeId?, animalId?, notes? }
 *                          { action: 'change', id, patch }   (patch applied as is, unchecked)
 *                          { action: 'move', id, start, end }
 *                          { action: 'checkin' | 'checkout' | 'cancel', id, at? }
 *                          { action: 'delete', id }
 *                          dates are ISO 8601 strings → 200 the reservation ({ id } for delete);
 *                          owners and animals (patches applied as is, unchecked):
 *                          { action: 'add-owner', owner? } → the owner
 *                          { action: 'change-owner', id, patch, at? } → the owner
 *                          { action: 'delete-owner', id } → { id, animals } (its animals go too)
 *                          { action: 'add-animal', ownerId, animal? } → the animal
 *                          { action: 'change-animal', id, patch } → the animal
 *                          { action: 'rehome-animal', id, ownerId } → the animal
 *                          { action: 'delete-animal', id } → { id }
 *                          404 for an unknown id, 400 for a body that does not parse
 *   POST   /_sim/get-only  { endpoints: ['/owners', '/animals'] }: those answer GET only (405 to
 *                          a POST), the others both again → 200 { getOnly }
 *   GET    /_sim/state     { baseUrl, timeZone, today, match, owners, animals, reservations,
 *                            reservationTypes, liveFaults, requests } (counts), getOnly, latencyMs
 *   GET    /_sim/requests  every recorded API request (SimRequest[])
 */
import * as v from 'valibot'
import { ControlRuleSchema } from './faults.ts'
import { type Answer, errorString, jsonAnswer } from './serialize.ts'
import type { ServerState } from './server.ts'
import type { WireAnimal, WireOwner, WireReservation } from './wire.ts'

const Instant = v.pipe(
  v.string(),
  v.check((text) => !Number.isNaN(Date.parse(text)), 'Expected an ISO 8601 date and time'),
  v.transform((text) => new Date(text)),
)
const Id = v.pipe(v.string(), v.minLength(1))

const MutationSchema = v.variant('action', [
  v.strictObject({
    action: v.literal('add'),
    id: v.optional(Id),
    start: v.optional(Instant),
    end: v.optional(Instant),
    typeId: v.optional(v.string()),
    animalId: v.optional(v.string()),
    notes: v.optional(v.nullable(v.string())),
  }),
  v.strictObject({ action: v.literal('change'), id: Id, patch: v.record(v.string(), v.unknown()) }),
  v.strictObject({ action: v.literal('move'), id: Id, start: Instant, end: Instant }),
  v.strictObject({ action: v.picklist(['checkin', 'checkout', 'cancel']), id: Id, at: v.optional(Instant) }),
  v.strictObject({ action: v.literal('delete'), id: Id }),
  v.strictObject({ action: v.literal('add-owner'), owner: v.optional(v.record(v.string(), v.unknown())) }),
  v.strictObject({ action: v.literal('change-owner'), id: Id, patch: v.record(v.string(), v.unknown()), at: v.optional(Instant) }),
  v.strictObject({ action: v.literal('delete-owner'), id: Id }),
  v.strictObject({ action: v.literal('add-animal'), ownerId: Id, animal: v.optional(v.record(v.string(), v.unknown())) }),
  v.strictObject({ action: v.literal('change-animal'), id: Id, patch: v.record(v.string(), v.unknown()) }),
  v.strictObject({ action: v.literal('rehome-animal'), id: Id, ownerId: Id }),
  v.strictObject({ action: v.literal('delete-animal'), id: Id }),
])
const GetOnlySchema = v.strictObject({ endpoints: v.array(v.pipe(v.string(), v.startsWith('/'))) })
type Mutation = v.InferOutput<typeof MutationSchema>

function json(status: number, value: unknown): Answer {
  return jsonAnswer(status, JSON.stringify(value))
}

function mutate(state: ServerState, mutation: Mutation): unknown {
  const { account } = state
  const reservation = (id: string): WireReservation | undefined => account.reservations.get(id)
  switch (mutation.action) {
    case 'add': {
      const { action: _action, ...spec } = mutation
      return account.addReservation(spec)
    }
    case 'change':
      // Unchecked on purpose: a test may plant a malformed field to see the client skip it.
      return account.changeReservation(mutation.id, mutation.patch as Partial<WireReservation>)
    case 'move':
      return account.moveReservation(mutation.id, mutation.start, mutation.end)
    case 'checkin':
      account.checkIn(mutation.id, mutation.at)
      return reservation(mutation.id)
    case 'checkout':
      account.checkOut(mutation.id, mutation.at)
      return reservation(mutation.id)
    case 'cancel':
      account.cancelReservation(mutation.id, mutation.at)
      return reservation(mutation.id)
    case 'delete':
      account.deleteReservation(mutation.id)
      return { id: mutation.id }
    // Unchecked like 'change': a test may plant a malformed owner or animal to see it skipped.
    case 'add-owner':
      return account.addOwner(mutation.owner as Partial<WireOwner> | undefined)
    case 'change-owner':
      return account.changeOwner(mutation.id, mutation.patch as Partial<WireOwner>, mutation.at)
    case 'delete-owner':
      return { id: mutation.id, animals: account.deleteOwner(mutation.id) }
    case 'add-animal':
      return account.addAnimal(mutation.ownerId, mutation.animal as Partial<WireAnimal> | undefined)
    case 'change-animal':
      return account.changeAnimal(mutation.id, mutation.patch as Partial<WireAnimal>)
    case 'rehome-animal':
      return account.rehomeAnimal(mutation.id, mutation.ownerId)
    case 'delete-animal':
      account.deleteAnimal(mutation.id)
      return { id: mutation.id }
  }
}

async function readJson(req: Request): Promise<unknown> {
  try {
    return await req.json()
  } catch {
    return undefined
  }
}

function invalid(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): Answer {
  return json(400, { error: v.summarize(issues) })
}

export async function handleControl(req: Request, url: URL, state: ServerState, baseUrl: string): Promise<Answer> {
  const route = `${req.method} ${url.pathname}`
  switch (route) {
    case 'POST /_sim/faults': {
      const parsed = v.safeParse(ControlRuleSchema, await readJson(req))
      if (!parsed.success) return invalid(parsed.issues)
      const { nth, ...rule } = parsed.output
      // An nth rule can match once only, so it is spent once it has.
      state.faults.add(nth === undefined ? rule : { times: 1, ...rule, when: ({ n }) => n === nth })
      return json(201, { live: state.faults.live })
    }
    case 'DELETE /_sim/faults':
      state.faults.clear()
      return json(200, { live: 0 })
    case 'POST /_sim/mutate': {
      const parsed = v.safeParse(MutationSchema, await readJson(req))
      if (!parsed.success) return invalid(parsed.issues)
      try {
        return json(200, mutate(state, parsed.output))
      } catch (error) {
        if (error instanceof RangeError) return json(404, { error: error.message })
        throw error
      }
    }
    case 'POST /_sim/get-only': {
      const parsed = v.safeParse(GetOnlySchema, await readJson(req))
      if (!parsed.success) return invalid(parsed.issues)
      state.getOnly.clear()
      for (const endpoint of parsed.output.endpoints) state.getOnly.add(endpoint)
      return json(200, { getOnly: [...state.getOnly] })
    }
    case 'GET /_sim/state': {
      const { account } = state
      return json(200, {
        baseUrl,
        timeZone: account.timeZone,
        today: account.today,
        match: account.match,
        owners: account.owners.size,
        animals: account.animals.size,
        reservations: account.reservations.size,
        reservationTypes: account.reservationTypes.size,
        liveFaults: state.faults.live,
        requests: state.requests.length,
        getOnly: [...state.getOnly],
        latencyMs: state.latencyMs,
      })
    }
    case 'GET /_sim/requests':
      return json(200, state.requests)
    default:
      return jsonAnswer(404, errorString(`No control route ${route}`))
  }
}
