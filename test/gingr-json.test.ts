/**
 * src/gingr/json.ts: an answer read without building it whole must mean exactly what JSON.parse
 * of its text means (values, order of the records, a repeated id, `__proto__`), and a record that is
 * not JSON must make the answer invalid, retried like a body cut off.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { GingrClient } from '../src/gingr/client.ts'
import { parsedData, parseEnvelope, RawJson } from '../src/gingr/json.ts'
import { parseItems } from '../src/gingr/schemas.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

/** The envelope with its records parsed, as a JSON text keeps order: entries, recursively. */
function lazily(text: string): unknown {
  const envelope = parseEnvelope(bytes(text))
  if (envelope === undefined || !Object.hasOwn(envelope, 'data')) return envelope
  return { ...envelope, data: parsedData(envelope.data) }
}

const ordered = (value: unknown): unknown =>
  typeof value === 'object' && value !== null
    ? Array.isArray(value)
      ? value.map(ordered)
      : Object.entries(value).map(([key, inner]) => [key, ordered(inner)])
    : value

describe.concurrent('an envelope read lazily means what JSON.parse of its text means', () => {
  test.each([
    ['records keyed by id, not in id order', '{"success":true,"error":false,"data":{"20":{"a":1},"3":{"a":2},"x":{"a":3},"1":{"a":4}}}'],
    ['an array of records', '{"success":true,"data":[{"a":1},{"b":[1,2,{"c":"}"}]},3,"four",null,true]}'],
    ['an id listed twice: the last value, at the first place', '{"data":{"7":{"v":1},"8":{"v":2},"7":{"v":3}}}'],
    ['`__proto__` and `constructor` as ids', '{"data":{"__proto__":{"v":1},"constructor":{"v":2}}}'],
    ['escaped quotes and backslashes in strings', String.raw`{"data":{"1":{"n":"a \"quoted\" \\ back\\","m":"\\"},"2":{"n":"\u00e9\"}"}}}`],
    ['non-ASCII text', '{"data":[{"name":"Zoë 🐕 Łukasz"}],"message":"ça"}'],
    ['JSON whitespace everywhere', '\r\n { "data" :\t[ { "a" : 1 } ,\n{ "b" : 2 } ] , "success" : true } \n'],
    ['empty data', '{"success":true,"data":[]}'],
    ['empty object data', '{"data":{}}'],
    ['data that is no list', '{"data":"none","success":false}'],
    ['null data', '{"data":null}'],
    ['no data at all', '{"success":true}'],
    ['an empty envelope', '{}'],
    ['data listed twice: the last one', '{"data":[1],"data":{"5":{"a":1}}}'],
    ['numbers and literals as members', '{"success":false,"error":true,"code":-1.5e3,"data":[1e2,-0,false]}'],
  ])('%s', (_name, text) => {
    const read = lazily(text)
    expect(read).toEqual(JSON.parse(text))
    expect(ordered(read)).toEqual(ordered(JSON.parse(text)))
  })

  test('the records of `data` stay bytes until they are read', () => {
    const envelope = parseEnvelope(bytes('{"data":{"1":{"a":1}},"message":"hi"}'))
    expect((envelope?.data as Record<string, unknown> | undefined)?.['1']).toBeInstanceOf(RawJson)
    expect(envelope?.message).toBe('hi')
  })

  test.each([
    ['a top-level array', '[{"data":[]}]'],
    ['a top-level string', '"data"'],
    ['a byte-order mark', '\uFEFF{"data":[]}'],
    ['a body cut off', '{"success":true,"data":[{"a":1},{"b":'],
    ['a missing comma between records', '{"data":[{"a":1} {"b":2}]}'],
    ['a trailing comma', '{"data":[{"a":1},]}'],
    ['a missing colon', '{"data" [1]}'],
    ['text after the envelope', '{"data":[]} x'],
    ['a member that is not JSON', '{"success":tru,"data":[]}'],
    ['an unquoted key', '{data:[]}'],
  ])('%s: left to JSON.parse of the whole text', (_name, text) => {
    expect(parseEnvelope(bytes(text))).toBeUndefined()
  })

  test('a record that is not JSON is found when it is read', () => {
    const envelope = parseEnvelope(bytes('{"data":{"1":{"id":"1"},"2":{"id":tru}}}'))
    expect(() => parseItems(v.object({ id: v.string() }), envelope?.data as never)).toThrow('not JSON')
  })
})

describe('the client and a record that is not JSON', () => {
  let calls = 0
  /** How many answers yet are well-formed around one broken record; the rest are whole. */
  let broken = 0
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      calls += 1
      broken -= 1
      const record = broken >= 0 ? '{"id":"2","first_name":tru}' : '{"id":"2","first_name":"Bo","last_name":"B"}'
      return new Response(`{"success":true,"data":{"1":{"id":"1","first_name":"Al","last_name":"A"},"2":${record}}}`, {
        headers: { 'content-type': 'application/json' },
      })
    },
  })
  afterAll(() => server.stop(true))

  test('is an invalid answer, asked again, and the second answer is used', async () => {
    calls = 0
    broken = 1
    const client = new GingrClient({
      subdomain: 'test',
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${server.port}`,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
      paceMs: 0,
    })
    const owners = await client.owners()
    expect(calls).toBe(2)
    expect(owners.records.map((owner) => owner.first_name)).toEqual(['Al', 'Bo'])
    expect(owners.invalid).toEqual([])
  })

  test('fails as invalid JSON when every attempt has it', async () => {
    calls = 0
    broken = 2
    const client = new GingrClient({
      subdomain: 'test',
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${server.port}`,
      maxAttempts: 2,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
      paceMs: 0,
    })
    await expect(client.owners()).rejects.toThrow(/failed after 2 attempts: invalid JSON \(106 characters\)\./)
    expect(calls).toBe(2)
  })
})
