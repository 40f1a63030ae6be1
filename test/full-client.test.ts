/**
 * The client's side of the full sync, against the simulator over real HTTP: owners and animals
 * as POST (the key in the body), the GET fallback for an account that refuses it (the key then in
 * the URL, which no message may show), the look-ups, and records validated one by one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { GingrClient, type GingrClientOptions } from '../src/gingr/client.ts'
import { GingrError } from '../src/gingr/errors.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'

setDefaultTimeout(60_000)

const API_KEY = 'sk_full+Key/7Q2 v9?&='
let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({ seed: 23, owners: 30, animals: 45, reservations: 10, apiKey: API_KEY, timeZone: 'America/Denver' })
})
afterAll(async () => {
  await sim.stop()
})
beforeEach(() => {
  sim.faults.clear()
  sim.requests.length = 0
  sim.getOnly.clear()
})

function client(options: Partial<GingrClientOptions> = {}): GingrClient {
  return new GingrClient({
    subdomain: 'happytails',
    apiKey: sim.apiKey,
    baseUrl: sim.baseUrl,
    timeoutMs: 2_000,
    backoffBaseMs: 5,
    backoffMaxMs: 10,
    paceMs: 0,
    deadlineMs: 20_000,
    timeZone: 'America/Denver',
    ...options,
  })
}

async function failure(call: Promise<unknown>): Promise<GingrError> {
  try {
    await call
  } catch (error) {
    expect(error).toBeInstanceOf(GingrError)
    return error as GingrError
  }
  throw new Error('expected the call to fail')
}

/** The key, whole or in any of the forms a URL or a form body writes it, is nowhere in `text`. */
function expectNoKey(text: string): void {
  for (const form of [API_KEY, encodeURIComponent(API_KEY), new URLSearchParams({ k: API_KEY }).toString().slice(2), 'v9?&']) {
    expect(text).not.toContain(form)
  }
}

const methods = () => sim.requests.map((r) => `${r.method} ${r.endpoint} ${r.status}${r.keyInUrl ? ' key-in-url' : ''}`)

describe('owners and animals', () => {
  test('are asked by POST, the key in the body only, and come back whole', async () => {
    const c = client()
    const owners = await c.owners()
    const animals = await c.animals()
    expect(owners.records.map((o) => o.id)).toEqual([...sim.account.owners.keys()])
    expect(animals.records.map((a) => a.id)).toEqual([...sim.account.animals.keys()])
    expect(owners.invalid).toEqual([])
    expect(methods()).toEqual(['POST /owners 200', 'POST /animals 200'])
    expect(sim.requests.every((r) => r.keyValid)).toBe(true)
  })

  test('an account that refuses POST (405) is asked by GET, and the client remembers it per endpoint', async () => {
    sim.getOnly.add('/owners')
    sim.getOnly.add('/animals')
    const c = client()
    await c.owners()
    await c.owners()
    await c.animals()
    await c.animals()
    expect(methods()).toEqual([
      'POST /owners 405',
      'GET /owners 200 key-in-url',
      'GET /owners 200 key-in-url',
      'POST /animals 405',
      'GET /animals 200 key-in-url',
      'GET /animals 200 key-in-url',
    ])
    expect(sim.requests.every((r) => r.keyValid)).toBe(true)
    // Another client starts over: the memory is the client's, not the process's.
    sim.requests.length = 0
    await client().owners()
    expect(methods()).toEqual(['POST /owners 405', 'GET /owners 200 key-in-url'])
  })

  test('a where-clause travels in the GET query string too', async () => {
    sim.getOnly.add('/owners')
    const first = [...sim.account.owners.values()][0]!
    const found = await client().owners({ last_name: first.last_name })
    expect(found.records.length).toBeGreaterThan(0)
    expect(found.records.every((o) => o.last_name.toLowerCase() === first.last_name.toLowerCase())).toBe(true)
    expect(sim.requests[1]?.params).toEqual({ 'params[last_name]': first.last_name })
  })

  test('a 404 to the POST is a refusal too', async () => {
    sim.faults.add({ endpoint: '/owners', times: 1, fault: { kind: 'status', status: 404 } })
    const owners = await client().owners()
    expect(owners.records).toHaveLength(sim.account.owners.size)
    expect(methods()).toEqual(['POST /owners 404', 'GET /owners 200 key-in-url'])
  })

  test('other failures of the POST are not a reason to try GET', async () => {
    sim.faults.add({ endpoint: '/owners', fault: { kind: 'status', status: 400 } })
    const error = await failure(client().owners())
    expect(error.status).toBe(400)
    expect(methods()).toEqual(['POST /owners 400'])
  })

  test('a GET refused too fails with both answers in one sentence, and no key', async () => {
    sim.faults.add({ endpoint: '/animals', times: 2, fault: { kind: 'status', status: 404 } })
    const error = await failure(client().animals())
    expect(error.message).toBe(
      'Gingr /animals failed after 1 attempt: HTTP 404 (Not Found: "HTTP 404") (asked by GET after POST was refused with HTTP 404).',
    )
    expect(error.attempts).toBe(2)
    expectNoKey(`${error.message}\n${error.stack}`)
  })

  test('a GET redirected elsewhere is not followed, and the Location is shown without its query (the key)', async () => {
    sim.getOnly.add('/owners')
    const c = client()
    await c.owners()
    // The client asks by GET now: the redirect answers that GET.
    const location = `https://login.example.com/sso?key=${encodeURIComponent(API_KEY)}&next=${encodeURIComponent(`${sim.baseUrl}/owners?key=${API_KEY}`)}`
    sim.faults.add({ endpoint: '/owners', times: 1, fault: { kind: 'status', status: 302, headers: { location } } })
    const error = await failure(c.owners())
    expect(sim.requests.at(-1)).toMatchObject({ method: 'GET', keyInUrl: true, status: 302 })
    expect(error.message).toContain('a redirect (not followed) to https://login.example.com/sso')
    expectNoKey(`${error.message}\n${error.stack}`)
  })

  test("a GET whose connection fails: fetch's error holds the URL, the client's sentence does not", async () => {
    // A server that refuses the POST, and drops the GET's connection and goes: the retry meets a
    // refused connection, whose error object carries the URL, key and all, in its `path`.
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req) => {
        if (req.method === 'POST') return new Response('{"success":false,"error":"POST is not allowed here"}', { status: 405 })
        void server.stop(true)
        return new Promise<Response>(() => {})
      },
    })
    const error = await failure(client({ baseUrl: `http://127.0.0.1:${server.port}/api/v1`, maxAttempts: 2 }).owners())
    expect(error.kind).toBe('network')
    expect(error.message).toMatch(
      /^Gingr \/owners failed after 2 attempts: a network error \(.+\) \(asked by GET after POST was refused with HTTP 405\)\.$/,
    )
    expectNoKey(`${error.message}\n${error.stack}\n${JSON.stringify(error)}`)
  })

  test('a record that fails validation is skipped and named by its own id; the others come through', async () => {
    const [ownerId] = [...sim.account.owners.keys()]
    const [animalId, other] = [...sim.account.animals.keys()]
    const keep = {
      owner: sim.account.owners.get(ownerId!)!,
      animal: sim.account.animals.get(animalId!)!,
      other: sim.account.animals.get(other!)!,
    }
    try {
      sim.account.owners.set(ownerId!, { ...keep.owner, first_name: null as unknown as string })
      sim.account.animals.set(animalId!, { ...keep.animal, birthday: 'next spring' })
      sim.account.animals.set(other!, { ...keep.other, owner_id: 'abc' })
      const owners = await client().owners()
      const animals = await client().animals()
      expect(owners.invalid).toEqual([{ id: ownerId!, issue: expect.stringMatching(/^first_name: /) }])
      expect(owners.records).toHaveLength(sim.account.owners.size - 1)
      expect(animals.invalid).toEqual([
        {
          id: animalId!,
          issue: 'birthday: Invalid birthday: expected unix seconds or YYYY-MM-DD from 1900 to 2199, received "next spring"',
        },
        { id: other!, issue: expect.stringMatching(/^owner_id: Invalid id/) },
      ])
      expect(animals.records).toHaveLength(sim.account.animals.size - 2)
    } finally {
      sim.account.owners.set(ownerId!, keep.owner)
      sim.account.animals.set(animalId!, keep.animal)
      sim.account.animals.set(other!, keep.other)
    }
  })
})

describe('animal fields', () => {
  const cases: Array<[string, unknown, string | null]> = [
    // 2020-05-01T03:00Z is still 30 April in Denver: the facility's day, at midnight UTC.
    ['unix seconds, read as the facility-local day', '1588302000', '2020-04-30T00:00:00.000Z'],
    ['unix seconds as a JSON number', 1588345200, '2020-05-01T00:00:00.000Z'],
    ['a plain date', '2019-02-28', '2019-02-28T00:00:00.000Z'],
    ['none', null, null],
    ['empty', '', null],
    ['zero (Gingr for "unknown")', '0', null],
    ["MySQL's zero date", '0000-00-00 00:00:00', null],
  ]
  test.each(cases)('birthday: %s', async (_name, birthday, expected) => {
    const animal = sim.account.addAnimal([...sim.account.owners.keys()][0]!, { birthday: birthday as string })
    try {
      const { records, invalid } = await client().animals({ id: animal.id })
      expect(invalid).toEqual([])
      expect(records[0]?.birthday?.toISOString() ?? null).toBe(expected)
    } finally {
      sim.account.deleteAnimal(animal.id)
    }
  })

  test('birthday: a date that does not exist is an invalid animal', async () => {
    const animal = sim.account.addAnimal([...sim.account.owners.keys()][0]!, { birthday: '2019-02-30' })
    try {
      const { invalid } = await client().animals({ id: animal.id })
      expect(invalid).toEqual([
        {
          id: animal.id,
          issue: 'birthday: Invalid birthday: expected unix seconds or YYYY-MM-DD from 1900 to 2199, received "2019-02-30"',
        },
      ])
    } finally {
      sim.account.deleteAnimal(animal.id)
    }
  })

  // The years every Gingr timestamp is held to: a placeholder is no birthday, stored or dropped.
  test.each(['9999-12-31', '1899-12-31', '2200-01-01', '-62135596800', '253402214400', -2209075200])(
    'birthday %p, outside 1900 to 2199, is an invalid animal',
    async (birthday) => {
      const animal = sim.account.addAnimal([...sim.account.owners.keys()][0]!, { birthday: birthday as string })
      try {
        const { records, invalid } = await client().animals({ id: animal.id })
        expect(records).toEqual([])
        expect(invalid).toEqual([
          { id: animal.id, issue: expect.stringMatching(/^birthday: Invalid birthday: .* from 1900 to 2199, received/) },
        ])
      } finally {
        sim.account.deleteAnimal(animal.id)
      }
    },
  )

  test.each([
    ['1900-01-01', '1900-01-01T00:00:00.000Z'],
    ['2199-12-31', '2199-12-31T00:00:00.000Z'],
    ['-86400', '1969-12-31T00:00:00.000Z'],
  ])('birthday %p, inside the range, is that day', async (birthday, expected) => {
    const animal = sim.account.addAnimal([...sim.account.owners.keys()][0]!, { birthday })
    try {
      const { records, invalid } = await client({ timeZone: 'UTC' }).animals({ id: animal.id })
      expect(invalid).toEqual([])
      expect(records[0]?.birthday?.toISOString()).toBe(expected)
    } finally {
      sim.account.deleteAnimal(animal.id)
    }
  })

  const weights: Array<[unknown, number | null]> = [
    ['62.5', 62.5],
    [41, 41],
    ['45 lbs', 45],
    [' 7.25 lb ', 7.25],
    ['0', 0],
    ['10000', 10_000],
    ['', null],
    [null, null],
  ]
  test.each(weights)('weight %p is %p', async (weight, expected) => {
    const animal = sim.account.addAnimal([...sim.account.owners.keys()][0]!, { weight: weight as string })
    try {
      const { records, invalid } = await client().animals({ id: animal.id })
      expect(invalid).toEqual([])
      expect(records[0]?.weight).toBe(expected)
    } finally {
      sim.account.deleteAnimal(animal.id)
    }
  })

  // Read by parseFloat these were 1, 1.5, 12, 0, 1, 1 and a nonsense weight: now reported.
  test.each(['heavy', '1e3', '1.5e2', '12,5', '0x10', '1e308', '1e-320', '10000.5', '-3', 1e308, -1, 'NaN', true])(
    'weight %p is an invalid animal',
    async (weight) => {
      const animal = sim.account.addAnimal([...sim.account.owners.keys()][0]!, { weight: weight as string })
      try {
        const { records, invalid } = await client().animals({ id: animal.id })
        expect(records).toEqual([])
        expect(invalid).toEqual([
          { id: animal.id, issue: expect.stringMatching(/^weight: Invalid weight: expected a decimal number from 0 to 10,000, received /) },
        ])
      } finally {
        sim.account.deleteAnimal(animal.id)
      }
    },
  )
})

describe('look-ups', () => {
  test('breeds and species: value and label, the ids animals carry', async () => {
    const c = client()
    const breeds = await c.breeds()
    const species = await c.species()
    expect(breeds.invalid).toEqual([])
    expect(breeds.records).toContainEqual({ value: '11', label: 'Labrador Retriever' })
    expect(species.records).toEqual([
      { value: '1', label: 'Dog' },
      { value: '2', label: 'Cat' },
      { value: '3', label: 'Other' },
      { value: '4', label: 'Bird' },
      { value: '5', label: 'Rabbit' },
      { value: '6', label: 'Reptile' },
    ])
    const ids = new Set(breeds.records.map((b) => b.value))
    for (const animal of sim.account.animals.values()) if (animal.breed_id !== null) expect(ids.has(animal.breed_id)).toBe(true)
    expect(methods()).toEqual(['POST /get_breeds 200', 'POST /get_species 200'])
  })

  test('an invalid entry is skipped, named by its value when it has one', async () => {
    const data = [{ value: '1', label: 'Dog' }, { value: 'two', label: 'Cat' }, { value: 3, label: 'Other' }, { label: 'Fish' }]
    const body = JSON.stringify({ success: true, error: false, data })
    sim.faults.add({ endpoint: '/get_species', times: 1, fault: { kind: 'status', status: 200, body } })
    const species = await client().species()
    expect(species.records).toEqual([
      { value: '1', label: 'Dog' },
      { value: '3', label: 'Other' },
    ])
    expect(species.invalid).toEqual([
      { id: null, issue: expect.stringMatching(/^value: Invalid id/) },
      { id: null, issue: expect.stringMatching(/^value: /) },
    ])
  })
})
