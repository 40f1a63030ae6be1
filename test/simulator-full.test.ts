/**
 * The simulator's owners and animals, for the full sync: every field Gingr documents, generated
 * deterministically and quickly at the size of a real account, the look-ups, GET and POST (and an
 * account that refuses POST), `/new_modified_owners`, and the mutations, through the account and
 * through the control API over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { LARGE_ACCOUNT, type Simulator, startSimulator, type WireAnimal, type WireOwner } from '../src/simulator/index.ts'

setDefaultTimeout(60_000)

const TODAY = '2025-11-17'
const ZONE = 'America/Denver'
let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, today: TODAY, timeZone: ZONE, owners: 60, animals: 90, reservations: 80 })
})
afterAll(async () => {
  await sim.stop()
})

type Json = Record<string, unknown>

async function api(s: Simulator, endpoint: string, form: Record<string, string> = {}, method: 'POST' | 'GET' = 'POST') {
  const params = new URLSearchParams({ key: s.apiKey, ...form })
  const response =
    method === 'POST' ? await fetch(`${s.baseUrl}${endpoint}`, { method, body: params }) : await fetch(`${s.baseUrl}${endpoint}?${params}`)
  return { status: response.status, body: (await response.json()) as Json }
}

async function control(s: Simulator, path: string, body: unknown) {
  const response = await fetch(`${s.baseUrl.replace(/\/api\/v1$/, '')}/_sim/${path}`, { method: 'POST', body: JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as Json }
}

const OWNER_FIELDS = [
  'id',
  'first_name',
  'last_name',
  'email',
  'cell_phone',
  'home_phone',
  'address_1',
  'address_2',
  'city',
  'state',
  'zip',
  'emergency_contact_name',
  'emergency_contact_phone',
  'notes',
]
const ANIMAL_FIELDS = [
  'id',
  'owner_id',
  'first_name',
  'species_id',
  'breed_id',
  'color',
  'gender',
  'birthday',
  'weight',
  'microchip',
  'vet_id',
  'medicines',
  'allergies',
  'notes',
  'feeding_notes',
  'grooming_notes',
  'temperment',
  'fixed',
  'vip',
  'banned',
  'image',
]

describe('the generated account', () => {
  test('every owner and animal has every documented field, and some of each field is filled', async () => {
    const owners = (await api(sim, '/owners')).body.data as Json[]
    const animals = (await api(sim, '/animals')).body.data as Json[]
    expect(owners).toHaveLength(60)
    expect(animals).toHaveLength(90)
    for (const owner of owners) expect(Object.keys(owner).sort()).toEqual([...OWNER_FIELDS].sort())
    for (const animal of animals) expect(Object.keys(animal).sort()).toEqual([...ANIMAL_FIELDS].sort())
    for (const field of OWNER_FIELDS) expect(owners.some((o) => o[field] !== null && o[field] !== '')).toBe(true)
    for (const field of ANIMAL_FIELDS) expect(animals.some((a) => a[field] !== null && a[field] !== '')).toBe(true)
    // Gingr's forms: flags "1"/"0", birthdays unix seconds as strings, weights as text.
    expect(animals.every((a) => a.fixed === '1' || a.fixed === '0')).toBe(true)
    expect(animals.filter((a) => a.birthday !== null).every((a) => /^\d{9,10}$/.test(String(a.birthday)))).toBe(true)
    expect(new Set(animals.map((a) => a.gender))).toEqual(new Set(['Male', 'Female', null]))
  })

  test('the size of a real account is generated and served in seconds, the same for the same seed', async () => {
    const started = performance.now()
    const [large, again] = await Promise.all([
      startSimulator({ ...LARGE_ACCOUNT, reservations: 0 }),
      startSimulator({ ...LARGE_ACCOUNT, reservations: 0 }),
    ])
    try {
      const [owners, animals] = [await api(large, '/owners'), await api(large, '/animals')]
      expect(performance.now() - started).toBeLessThan(15_000)
      expect(owners.body.data).toHaveLength(11_826)
      expect(animals.body.data).toHaveLength(18_469)
      expect(JSON.stringify((await api(again, '/animals')).body)).toBe(JSON.stringify(animals.body))
      expect(JSON.stringify((await api(again, '/owners')).body)).toBe(JSON.stringify(owners.body))
    } finally {
      await Promise.all([large.stop(), again.stop()])
    }
  })
})

describe('look-ups', () => {
  test('/get_breeds and /get_species answer [{value, label}] by GET and POST, and every breed an animal carries is listed', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const breeds = (await api(sim, '/get_breeds', {}, method)).body.data as { value: string; label: string }[]
      const species = (await api(sim, '/get_species', {}, method)).body.data as { value: string; label: string }[]
      expect(breeds).toContainEqual({ value: '21', label: 'Domestic Shorthair' })
      expect(species.map((s) => s.label)).toEqual(['Dog', 'Cat', 'Other', 'Bird', 'Rabbit', 'Reptile'])
      const known = new Set(breeds.map((b) => b.value))
      for (const animal of sim.account.animals.values()) if (animal.breed_id !== null) expect(known.has(animal.breed_id)).toBe(true)
    }
  })
})

describe('GET, POST, and an account that refuses POST', () => {
  test('both methods serve /owners and /animals, with the key in the query string or the body', async () => {
    for (const endpoint of ['/owners', '/animals']) {
      const get = await api(sim, endpoint, {}, 'GET')
      const post = await api(sim, endpoint, {}, 'POST')
      expect(get.status).toBe(200)
      expect(get.body).toEqual(post.body)
    }
  })

  test('getOnly, and the control API, make POST a 405 there and only there', async () => {
    const set = await control(sim, 'get-only', { endpoints: ['/owners', '/animals'] })
    expect(set).toEqual({ status: 200, body: { getOnly: ['/owners', '/animals'] } })
    try {
      expect((await api(sim, '/owners')).status).toBe(405)
      expect((await api(sim, '/animals')).status).toBe(405)
      expect((await api(sim, '/owners', {}, 'GET')).status).toBe(200)
      expect((await api(sim, '/get_breeds')).status).toBe(200)
      expect((await api(sim, '/owners')).body).toEqual({ success: false, error: 'POST is not allowed here; use GET.' })
    } finally {
      expect((await control(sim, 'get-only', { endpoints: [] })).body).toEqual({ getOnly: [] })
    }
    expect((await api(sim, '/owners')).status).toBe(200)
    expect((await control(sim, 'get-only', { endpoints: 'owners' })).status).toBe(400)
  })
})

describe('/new_modified_owners', () => {
  test('the owners changed in a range, by the account clock; the range rules of /reservations', async () => {
    const s = await startSimulator({ seed: 5, today: TODAY, timeZone: ZONE, owners: 400, animals: 400, reservations: 0 })
    try {
      const range = { start_date: '2025-10-20', end_date: '2025-11-16' }
      const before = (await api(s, '/new_modified_owners', range)).body.data as WireOwner[]
      const expected = [...s.account.ownerModifiedAt]
        .filter(([, at]) => at >= Date.parse('2025-10-20T06:00:00Z') && at < Date.parse('2025-11-17T07:00:00Z'))
        .map(([id]) => id)
      expect(before.map((o) => o.id).sort()).toEqual(expected.sort())
      expect(before.length).toBeGreaterThan(5)
      // An edit stamped on the last day of the range, late in the evening local (after midnight UTC).
      const [id] = [...s.account.owners.keys()].filter((key) => !expected.includes(key))
      s.account.changeOwner(id!, { city: 'Golden' }, new Date('2025-11-17T05:30:00Z'))
      const after = (await api(s, '/new_modified_owners', range)).body.data as WireOwner[]
      expect(after.find((o) => o.id === id)?.city).toBe('Golden')
      expect(after).toHaveLength(before.length + 1)
      expect((await api(s, '/new_modified_owners', { start_date: '2025-10-01', end_date: '2025-11-16' })).body).toMatchObject({
        success: false,
        message: 'The date range cannot span more than 30 days.',
      })
      expect((await api(s, '/new_modified_owners', {}, 'GET')).status).toBe(405)
    } finally {
      await s.stop()
    }
  })
})

describe('mutations of owners and animals', () => {
  test('through the account: edit, re-home, delete; reservations show the owner as it is now', () => {
    const account = sim.account
    const booked = [...account.reservations.values()][0]!
    const owner = account.changeOwner(booked.owner.id, { last_name: 'Okafor-Lindqvist', notes: 'Moved to Golden' })
    const stay = account.reservations.get(booked.reservation_id)!
    expect(stay.owner.last_name).toBe('Okafor-Lindqvist')
    expect(stay.notes.owner_notes).toBe('Moved to Golden')
    expect(owner.first_name).toBe(booked.owner.first_name)

    const animal = account.changeAnimal(booked.animal.id, { first_name: 'Biscuit II', weight: '51.0' })
    expect(account.reservations.get(booked.reservation_id)!.animal.name).toBe('Biscuit II')
    expect(animal.weight).toBe('51.0')

    const other = [...account.owners.keys()].find((id) => id !== owner.id)!
    const moved = account.rehomeAnimal(animal.id, other)
    expect(moved.owner_id).toBe(other)
    // The stay was booked by the first owner, and stays so.
    expect(account.reservations.get(booked.reservation_id)!.owner.id).toBe(owner.id)

    expect(() => account.changeOwner('1', {})).toThrow(RangeError)
    expect(() => account.rehomeAnimal(animal.id, '1')).toThrow(RangeError)
    const gone = account.deleteOwner(other)
    expect(gone).toContain(animal.id)
    expect(account.animals.has(animal.id)).toBe(false)
    expect([...account.animals.values()].some((a) => a.owner_id === other)).toBe(false)
    expect(() => account.deleteAnimal(animal.id)).toThrow(RangeError)
  })

  test('through the control API, and the answers show them', async () => {
    const added = await control(sim, 'mutate', {
      action: 'add-owner',
      owner: { first_name: 'Ines', last_name: 'Varga', email: 'ines@example.com' },
    })
    expect(added.status).toBe(200)
    const ownerId = String(added.body.id)
    const pet = await control(sim, 'mutate', { action: 'add-animal', ownerId, animal: { first_name: 'Pepper', species_id: '5' } })
    const animalId = String(pet.body.id)
    expect(pet.body).toMatchObject({ owner_id: ownerId, species_id: '5' })

    const changed = await control(sim, 'mutate', {
      action: 'change-owner',
      id: ownerId,
      patch: { city: 'Lakewood' },
      at: '2025-11-16T18:00:00Z',
    })
    expect(changed.body.city).toBe('Lakewood')
    expect(sim.account.ownerModifiedAt.get(ownerId)).toBe(Date.parse('2025-11-16T18:00:00Z'))
    expect((await control(sim, 'mutate', { action: 'change-animal', id: animalId, patch: { color: 'Grey' } })).body.color).toBe('Grey')
    const target = [...sim.account.owners.keys()][4]!
    expect((await control(sim, 'mutate', { action: 'rehome-animal', id: animalId, ownerId: target })).body.owner_id).toBe(target)

    const listed = (await api(sim, '/animals', { 'params[id]': animalId })).body.data as WireAnimal[]
    expect(listed).toEqual([expect.objectContaining({ id: animalId, owner_id: target, color: 'Grey' })])

    expect(await control(sim, 'mutate', { action: 'delete-animal', id: animalId })).toEqual({ status: 200, body: { id: animalId } })
    expect((await api(sim, '/animals', { 'params[id]': animalId })).body.data).toEqual([])
    expect(await control(sim, 'mutate', { action: 'delete-owner', id: ownerId })).toEqual({
      status: 200,
      body: { id: ownerId, animals: [] },
    })
    expect((await api(sim, '/owners', { 'params[id]': ownerId })).body.data).toEqual([])

    expect((await control(sim, 'mutate', { action: 'delete-owner', id: ownerId })).status).toBe(404)
    expect((await control(sim, 'mutate', { action: 'rehome-animal', id: animalId, ownerId: target })).status).toBe(404)
    expect((await control(sim, 'mutate', { action: 'change-owner', id: ownerId })).status).toBe(400)
  })
})

describe('the standalone process', () => {
  test('--large makes the account of a real business, --get-only an account that refuses POST there', async () => {
    const child = Bun.spawn(
      [process.execPath, `${import.meta.dir}/../src/simulator/main.ts`, '--large', '--reservations', '0', '--get-only', '/owners,/animals'],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    try {
      let printed = ''
      const reader = child.stdout.getReader()
      while (!printed.includes('GINGR_API_KEY=')) {
        const { value, done } = await reader.read()
        if (done) break
        printed += new TextDecoder().decode(value)
      }
      const base = /GINGR_BASE_URL=(\S+)/.exec(printed)?.[1] ?? ''
      const state = (await (await fetch(`${base.replace(/\/api\/v1$/, '')}/_sim/state`)).json()) as Json
      expect(state).toMatchObject({ owners: 11_826, animals: 18_469, reservations: 0, getOnly: ['/owners', '/animals'] })
      child.kill('SIGTERM')
      expect(await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running')])).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
