/**
 * src/gingr/json.ts: an answer read without building it whole must mean exactly what JSON.parse
 * of its text means (values, order of the records, a repeated id, `__proto__`), and a record that is
 * not JSON must make the answer invalid, retried like a body cut off.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { GingrClient } from '../src/gingr/client.ts'
import { AnswerSplitter, decodeText, MAX_RECORD_BYTES, OversizedRecord } from '../src/gingr/json.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

/** The body pushed in chunks of `size` bytes (0: whole), each record as JSON.parse made it. */
function split(body: Uint8Array, size: number) {
  const each = (record: unknown) => ({ record })
  const splitter = new AnswerSplitter(each)
  const step = size === 0 ? Math.max(1, body.length) : size
  for (let at = 0; at < body.length; at += step) splitter.push(body.subarray(at, at + step))
  return splitter.end()
}

/** The split answer put back together: the skeleton parsed, each record number replaced by its record. */
function rebuilt(body: Uint8Array, size: number): unknown {
  const answer = split(body, size)
  if (!('split' in answer)) return 'whole'
  const { skeleton, results, recordsParse } = answer.split
  if (!recordsParse) return 'a record is not JSON'
  let envelope: Record<string, unknown>
  try {
    envelope = JSON.parse(skeleton)
  } catch {
    return 'not JSON'
  }
  const record = (index: unknown) => (results[index as number] as { record: unknown }).record
  const data = envelope.data
  if (Array.isArray(data)) envelope.data = data.map(record)
  else if (typeof data === 'object' && data !== null)
    envelope.data = Object.fromEntries(Object.entries(data).map(([key, index]) => [key, record(index)]))
  return envelope
}

const ordered = (value: unknown): unknown =>
  typeof value === 'object' && value !== null
    ? Array.isArray(value)
      ? value.map(ordered)
      : Object.entries(value).map(([key, inner]) => [key, ordered(inner)])
    : value

const SIZES = [0, 1, 2, 3, 7, 64]

describe.concurrent('an answer split as it arrives means what JSON.parse of its text means', () => {
  test.each([
    ['records keyed by id, not in id order', '{"success":true,"error":false,"data":{"20":{"a":1},"3":{"a":2},"x":{"a":3},"1":{"a":4}}}'],
    ['an array of records, of every kind', '{"success":true,"data":[{"a":1},{"b":[1,2,{"c":"}"}]},3,"four",null,true,-1.5e3,[]]}'],
    ['an id listed twice: the last value, at the first place', '{"data":{"7":{"v":1},"8":{"v":2},"7":{"v":3}}}'],
    ['`__proto__` and `constructor` as ids', '{"data":{"__proto__":{"v":1},"constructor":{"v":2}}}'],
    [
      'escaped quotes and backslashes in strings',
      String.raw`{"data":{"1":{"n":"a \"quoted\" \\ back\\","m":"\\"},"2":"\u00e9\"}"},"message":"x\\"}`,
    ],
    ['non-ASCII text', '{"data":[{"name":"Zoë 🐕 Łukasz"}],"message":"ça"}'],
    ['JSON whitespace everywhere', '\r\n { "data" :\t[ { "a" : 1 } ,\n{ "b" : 2 } , 3 ] , "success" : true } \n'],
    ['empty data', '{"success":true,"data":[]}'],
    ['empty object data', '{"data":{ }}'],
    ['data that is no list', '{"data":"none","success":false}'],
    ['null data', '{"data":null}'],
    ['no data at all', '{"success":true,"nested":{"data":[1]}}'],
    ['an empty envelope', '{}'],
    ['data listed twice: the last one', '{"data":[1],"data":{"5":{"a":1}}}'],
    ['a member named data inside another', '{"meta":{"data":[{"x":1}]},"data":[2]}'],
    ['a name with an escape', String.raw`{"d\u0061ta":[{"a":1}],"\"":{"x":[2]}}`],
  ])('%s', (_name, text) => {
    for (const size of SIZES) {
      const read = rebuilt(bytes(text), size)
      expect(read).toEqual(JSON.parse(text))
      expect(ordered(read)).toEqual(ordered(JSON.parse(text)))
    }
  })

  test('records go to `each` as they come, and are not kept as bytes', () => {
    const seen: unknown[] = []
    const splitter = new AnswerSplitter((record) => seen.push(record))
    splitter.push(bytes('{"data":[{"a":1},{"b"'))
    expect(seen).toEqual([{ a: 1 }])
    splitter.push(bytes(':2}]}'))
    expect(seen).toEqual([{ a: 1 }, { b: 2 }])
    const answer = splitter.end()
    expect('split' in answer && answer.split.skeleton).toBe('{"data":[0,1]}')
  })

  test('blanks between records are not kept: the skeleton follows the records, not the answer', () => {
    const blanks = ' '.repeat(1024 * 1024)
    const text = `{ "message" : "a  b",\n "data" : [${blanks}{"a": 1}${blanks},\n${blanks}2${blanks}] ${blanks}}`
    for (const size of [0, 7, 64 * 1024]) {
      const answer = split(bytes(text), size)
      expect('split' in answer && answer.split.skeleton).toBe('{"message":"a  b","data":[0,1]}')
      expect('split' in answer && answer.split.characters).toBe(text.length)
    }
  })

  test.each([
    ['a string', (fill: string) => `"${fill}"`],
    ['an object', (fill: string) => `{"id":"7","notes":"${fill}"}`],
  ])('a record past MAX_RECORD_BYTES (%s) is not kept: `each` gets its size', (_name, record) => {
    const huge = record('x'.repeat(MAX_RECORD_BYTES))
    const text = `{"data":[{"a":1},${huge},{"b":2}]}`
    for (const size of [0, 64 * 1024]) {
      const answer = split(bytes(text), size)
      if (!('split' in answer)) throw new Error('not split')
      expect(answer.split.results).toEqual([{ record: { a: 1 } }, { record: new OversizedRecord(huge.length) }, { record: { b: 2 } }])
      expect(answer.split.skeleton).toBe('{"data":[0,1,2]}')
    }
  })

  test.each([
    ['twice', '{"data":[1],"success":true,"data":{"5":{"a":1}}}', true],
    ['twice, once escaped', '{"data":[1],"d\\u0061ta":[2]}', true],
    ['once, and once inside another member', '{"meta":{"data":[{"x":1}]},"data":[2]}', false],
    ['once', '{"data":[2]}', false],
  ])('`data` %s: duplicateData says so', (_name, text, twice) => {
    for (const size of SIZES) {
      const answer = split(bytes(text), size)
      expect('split' in answer && answer.split.duplicateData).toBe(twice)
    }
  })

  test.each([
    ['a top-level array', '[{"data":[]}]'],
    ['a top-level string', '"data"'],
    ['a byte-order mark', '\uFEFF{"data":[]}'],
    ['an HTML page', '  <!doctype html><p>{"data":[]}</p>'],
    ['nothing at all', ''],
  ])('%s: kept whole, for JSON.parse of the text', (_name, text) => {
    for (const size of SIZES) expect(rebuilt(bytes(text), size)).toBe('whole')
  })

  test.each([
    ['a body cut off', '{"success":true,"data":[{"a":1},{"b":'],
    ['a body cut off inside a number', '{"data":[1'],
    ['a missing comma between records', '{"data":[{"a":1} {"b":2}]}'],
    ['a trailing comma', '{"data":[{"a":1},]}'],
    ['a missing colon', '{"data" [1]}'],
    ['text after the envelope', '{"data":[]} x'],
    ['a member that is not JSON', '{"success":tru,"data":[]}'],
    ['an unquoted name', '{data:[]}'],
    ['a record that is not JSON', '{"data":{"1":{"id":"1"},"2":{"id":tru}}}'],
    ['a bare word as a record', '{"data":[nope]}'],
    ['mismatched brackets in a record', '{"data":[{"a":[1}]]}'],
  ])('%s: not JSON, as JSON.parse says', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow()
    for (const size of SIZES) expect(rebuilt(bytes(text), size)).toBeOneOf(['not JSON', 'a record is not JSON'])
  })

  test.each([
    ['ASCII', bytes('{"data":[1]}')],
    ['two, three and four bytes', bytes('{"data":["é","€","🐕"]}')],
    ['invalid bytes', Uint8Array.from([0x7b, 0x22, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0x22, 0xf0, 0x9f, 0x90, 0x3a, 0x31, 0x7d])],
    ['a sequence cut off by the end', Uint8Array.from([0x7b, 0x7d, 0xe2, 0x82])],
    ['surrogates written in UTF-8', Uint8Array.from([0x7b, 0x7d, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80])],
  ])('the text length of %s is what TextDecoder makes of it', (_name, body) => {
    for (const size of SIZES) {
      const answer = split(body, size)
      expect('split' in answer && answer.split.characters).toBe(decodeText(body).length)
    }
  })
})

describe('the client and answers made to mislead it', () => {
  let body = ''
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => new Response(body, { headers: { 'content-type': 'application/json' } }),
  })
  afterAll(() => server.stop(true))
  const client = () => new GingrClient({ subdomain: 'test', apiKey: 'k', baseUrl: `http://127.0.0.1:${server.port}`, paceMs: 0 })
  const owner = (id: string) => `{"id":"${id}","first_name":"F${id}","last_name":"L"}`
  const reservation = (id: string) =>
    `{"reservation_id":"${id}","start_date":"2025-11-17T13:00:00-07:00","end_date":"2025-11-18T13:00:00-07:00"}`

  test('`data` twice is an invalid answer, not one of the two silently', async () => {
    body = `{"success":true,"data":{"1":${owner('1')}},"data":{"2":${owner('2')}}}`
    await expect(client().owners()).rejects.toThrow(/failed after 1 attempt: JSON with `data` twice/)
  })

  test('records keyed `__proto__`, `constructor` and `prototype` are records like any other', async () => {
    body = `{"success":true,"data":{"__proto__":${owner('1')},"constructor":${owner('2')},"prototype":${owner('3')}}}`
    const owners = await client().owners()
    expect(owners.records.map((record) => record.id)).toEqual(['1', '2', '3'])
    body = `{"success":true,"data":{"__proto__":${reservation('9')},"constructor":"junk"}}`
    const { records, invalid } = await client().reservationsOfOwner('1')
    expect(records.length + invalid.length).toBe(2)
  })

  test('a record far larger than any real one is one invalid record, reported in a few words', async () => {
    const huge = 'x'.repeat(MAX_RECORD_BYTES + 1)
    body = `{"success":true,"data":[${owner('1')},"${huge}",${owner('2')}]}`
    const owners = await client().owners()
    expect(owners.records.map((record) => record.id)).toEqual(['1', '2'])
    expect(owners.invalid).toEqual([{ id: null, issue: 'record: 4.0 MB, more than the 4.0 MB a Gingr record can have' }])
  })

  test('a record that is a long string is reported in a bounded issue', async () => {
    body = `{"success":true,"data":{"1":"${'y'.repeat(100_000)}"}}`
    const owners = await client().owners()
    expect(owners.invalid).toHaveLength(1)
    expect(owners.invalid[0]?.issue.length).toBeLessThan(400)
    expect(owners.invalid[0]?.issue).toStartWith('record: Invalid type: Expected Object but received "yyy')
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
  const client = (options: { maxAttempts?: number } = {}) =>
    new GingrClient({
      subdomain: 'test',
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${server.port}`,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
      paceMs: 0,
      ...options,
    })

  test('is an invalid answer, asked again, and the second answer is used', async () => {
    calls = 0
    broken = 1
    const owners = await client().owners()
    expect(calls).toBe(2)
    expect(owners.records.map((owner) => owner.first_name)).toEqual(['Al', 'Bo'])
    expect(owners.invalid).toEqual([])
  })

  test('fails as invalid JSON when every attempt has it', async () => {
    calls = 0
    broken = 2
    await expect(client({ maxAttempts: 2 }).owners()).rejects.toThrow(/failed after 2 attempts: invalid JSON \(106 characters\)\./)
    expect(calls).toBe(2)
  })
})
