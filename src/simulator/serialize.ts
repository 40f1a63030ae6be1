/**
 * Answers as bytes. Each record is encoded once per record object (records are frozen) and an
 * answer is one copy of those encodings into a buffer: 5,000 reservations, notes of tens of KB
 * included, cost a few milliseconds instead of a JSON.stringify and a UTF-8 encode of megabytes.
 */
import { deepFreeze } from './records.ts'
import type { WireReservation } from './wire.ts'

/** What an endpoint found, before it is written: the data-shape faults work on this. */
export type Payload =
  /** `data` is an object keyed by reservation id, or `[]` when there is none. */
  | { kind: 'reservations'; records: WireReservation[] }
  /** `data` is an array of rows. */
  | { kind: 'rows'; rows: object[] }
  /** `data` is one object, or `[]` when nothing was found. */
  | { kind: 'one'; row: object | null }

export interface Answer {
  status: number
  body: string | Uint8Array
  headers: Record<string, string>
}

const encoder = new TextEncoder()
const jsonCache = new WeakMap<object, string>()
const rowBytes = new WeakMap<object, Uint8Array>()
const keyedBytes = new WeakMap<WireReservation, Uint8Array>()

/** For the fault paths; the happy path keeps bytes only (one copy of 50,000 records is plenty). */
export function recordJson(record: object): string {
  let json = jsonCache.get(record)
  if (json === undefined) {
    json = JSON.stringify(deepFreeze(record))
    jsonCache.set(record, json)
  }
  return json
}

function cachedBytes<K extends object>(cache: WeakMap<K, Uint8Array>, record: K, text: () => string): Uint8Array {
  let bytes = cache.get(record)
  if (bytes === undefined) {
    bytes = encoder.encode(text())
    cache.set(record, bytes)
  }
  return bytes
}

/** `"6904":{...}`, one entry of a keyed `data` object. */
function reservationEntry(record: WireReservation): Uint8Array {
  return cachedBytes(keyedBytes, record, () => `${JSON.stringify(record.reservation_id)}:${JSON.stringify(deepFreeze(record))}`)
}

function rowEntry(row: object): Uint8Array {
  return cachedBytes(rowBytes, row, () => JSON.stringify(deepFreeze(row)))
}

/**
 * Encodes records before anyone asks, a slice per macrotask so that requests still interleave:
 * the first answer of a 50,000-reservation account is then as fast as the next ones.
 */
export async function warmUp(reservations: readonly WireReservation[], rows: readonly object[], signal: AbortSignal): Promise<void> {
  const work = [...reservations.map((record) => () => reservationEntry(record)), ...rows.map((row) => () => rowEntry(row))]
  for (const [index, encode] of work.entries()) {
    if (signal.aborted) return
    encode()
    if (index % 500 === 499) await Bun.sleep(0)
  }
}

/** `head` + chunks separated by commas + `tail`, in one buffer. */
function joined(head: string, chunks: readonly Uint8Array[], tail: string): Uint8Array {
  const start = encoder.encode(head)
  const end = encoder.encode(tail)
  let length = start.length + end.length + Math.max(0, chunks.length - 1)
  for (const chunk of chunks) length += chunk.length
  const out = new Uint8Array(length)
  out.set(start, 0)
  let at = start.length
  chunks.forEach((chunk, index) => {
    if (index > 0) out[at++] = 0x2c
    out.set(chunk, at)
    at += chunk.length
  })
  out.set(end, at)
  return out
}

const SUCCESS = '{"success":true,"error":false,"data":'

/** The success envelope around already-serialised `data`. */
export function envelope(dataJson: string): string {
  return `${SUCCESS}${dataJson}}`
}

export function arrayJson(rows: readonly object[]): string {
  return `[${rows.map(recordJson).join(',')}]`
}

/**
 * The happy path. Reservations: `{"6904":{...},"6908":{...}}`, or `[]` for none, since PHP
 * writes an empty array, not an empty object.
 */
export function payloadBody(payload: Payload): Uint8Array | string {
  switch (payload.kind) {
    case 'reservations':
      if (payload.records.length === 0) return envelope('[]')
      return joined(`${SUCCESS}{`, payload.records.map(reservationEntry), '}}')
    case 'rows':
      return joined(`${SUCCESS}[`, payload.rows.map(rowEntry), ']}')
    case 'one':
      return envelope(payload.row === null ? '[]' : recordJson(payload.row))
  }
}

export function bodyBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? encoder.encode(body) : body
}

/** The two error shapes Gingr is known to use: `error` as a string, or `true` with a `message`. */
export function errorString(message: string): string {
  return JSON.stringify({ success: false, error: message })
}

export function errorMessage(message: string): string {
  return JSON.stringify({ success: false, error: true, message })
}

export function jsonAnswer(status: number, body: string | Uint8Array): Answer {
  return { status, body, headers: { 'content-type': 'application/json; charset=utf-8' } }
}

export function isAnswer(value: object): value is Answer {
  return 'status' in value && 'body' in value && 'headers' in value
}
