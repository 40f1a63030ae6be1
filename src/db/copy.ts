import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import type { TransactionSql } from 'postgres'

/**
 * COPY's text format and the stream into `COPY ... FROM STDIN`: the staging of the hourly writes
 * (src/db/writes.ts) and of the full sync's (src/db/full-writes.ts), and one home for the driver
 * trap below.
 */

export type CopyCell = string | number | boolean | Date | null

/** COPY's text format: `\N` is NULL; backslash, tab, newline and carriage return are escaped. */
const ESCAPED = /[\\\t\n\r]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

export function copyCell(value: CopyCell): string {
  if (value === null) return '\\N'
  if (typeof value === 'number') return String(value)
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (value instanceof Date) return value.toISOString()
  return value.replace(ESCAPED, (c) => ESCAPES[c] ?? c)
}

/**
 * The rows as COPY text, encoded as it is made into slices of about 256 KB (COPY takes its data in
 * pieces of any size, lines split or not), no string built for a line or a slice. (Slices of lines
 * joined with `+=` left three times the text as garbage, a rope per cell, the slice, its bytes:
 * 100 MB at 50,000 reservations, the run's peak of memory.) One buffer is reused: a slice is valid
 * until the next one is asked for, which copyIn does only once the driver has copied it.
 */
export function* copyText<Row extends Record<keyof Row, CopyCell>>(
  rows: readonly Row[],
  columns: readonly (keyof Row)[],
): Generator<Uint8Array> {
  const SLICE = 256 * 1024
  let slice = Buffer.allocUnsafe(SLICE)
  let size = 0
  for (const row of rows) {
    for (let index = 0; index < columns.length; index++) {
      const value = row[columns[index] as keyof Row]
      // A timestamp is written as its digits: a string for each (five a reservation) was garbage too.
      const cell = value instanceof Date && isPlainYear(value) ? null : copyCell(value)
      // UTF-8 takes at most 3 bytes per UTF-16 unit; and the tab or newline after the cell.
      const most = cell === null ? ISO_LENGTH + 1 : cell.length * 3 + 1
      if (size + most > slice.length) {
        if (size > 0) yield slice.subarray(0, size)
        if (most > slice.length) slice = Buffer.allocUnsafe(most)
        size = 0
      }
      // Buffer's write, not TextEncoder's encodeInto: no view and no result object made per cell.
      size = cell === null ? writeIso(slice, size, value as Date) : size + slice.write(cell, size)
      slice[size++] = index === columns.length - 1 ? NEWLINE : TAB
    }
  }
  if (size > 0) yield slice.subarray(0, size)
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, toISOString's form for the years 0 to 9999. */
const ISO_LENGTH = 24

function isPlainYear(date: Date): boolean {
  const year = date.getUTCFullYear()
  return year >= 0 && year <= 9999
}

/** toISOString's text of `date` (a year of four digits), written at `at`; where it ends. */
function writeIso(buffer: Buffer, at: number, date: Date): number {
  at = writeDigits(buffer, at, date.getUTCFullYear(), 4)
  buffer[at++] = 0x2d // -
  at = writeDigits(buffer, at, date.getUTCMonth() + 1, 2)
  buffer[at++] = 0x2d
  at = writeDigits(buffer, at, date.getUTCDate(), 2)
  buffer[at++] = 0x54 // T
  at = writeDigits(buffer, at, date.getUTCHours(), 2)
  buffer[at++] = 0x3a // :
  at = writeDigits(buffer, at, date.getUTCMinutes(), 2)
  buffer[at++] = 0x3a
  at = writeDigits(buffer, at, date.getUTCSeconds(), 2)
  buffer[at++] = 0x2e // .
  at = writeDigits(buffer, at, date.getUTCMilliseconds(), 3)
  buffer[at++] = 0x5a // Z
  return at
}

function writeDigits(buffer: Buffer, at: number, value: number, width: number): number {
  for (let place = width - 1; place >= 0; place--) {
    buffer[at + place] = 0x30 + (value % 10)
    value = Math.floor(value / 10)
  }
  return at + width
}

const TAB = 0x09
const NEWLINE = 0x0a

/**
 * Streams `chunks` into a `COPY ... FROM STDIN` and settles when PostgreSQL has taken them all, or
 * rejects with PostgreSQL's own error when it refuses them, whenever that refusal arrives.
 *
 * The trap (postgres.js 3.4.9, porsager/postgres#1173; the fix, #1183, is not released): the COPY
 * query resolves with a writable as soon as PostgreSQL asks for data, and that writable settles on
 * success (CommandComplete) or on an error that arrives *while data is still being written*. An
 * error after the last chunk went out (a value the server refuses while parsing the tail, a
 * cancel, a statement timeout: the whole window of a few MB fits in the socket's buffers, so that is
 * the usual case) reaches only the query's own `reject`, a no-op on a query already resolved. The
 * writable never finished, the run waited forever, idle in an aborted transaction holding the
 * tenant's lock, and every later hourly run found the flock taken. So the refusal is taken from
 * `reject` itself; a lost connection arrives the same way, and inTransaction() handles it as any.
 * (The writable left behind is finished by the connection's next CommandComplete, the ROLLBACK's:
 * postgres.js calls its pending callback there.)
 */
export async function copyIn(tx: TransactionSql, statement: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const copy = tx.unsafe(statement)
  const refused = refusalOf(copy)
  const target = await copy.writable()
  await Promise.race([writeAll(target, chunks), refused])
}

/**
 * Each chunk written once the one before is through (its callback: postgres.js has copied it into
 * its message and handed that to the socket), so that copyText may reuse its buffer; then the
 * end, and the writable's finish (PostgreSQL's CommandComplete) or its error.
 */
async function writeAll(target: Writable, chunks: Iterable<Uint8Array>): Promise<void> {
  const done = finished(target)
  // Whoever awaits first: an error before the end must not be left unhandled here.
  done.catch(() => {})
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => {
      target.write(chunk, (error) => (error ? reject(error) : resolve()))
    })
  }
  target.end()
  await done
}

/** A promise rejected with whatever error postgres.js settles `query` with, even once it has resolved. */
function refusalOf(query: object): Promise<never> {
  const driver = query as { reject?: unknown }
  const own = driver.reject
  // Fail loudly, not by hanging again, should a newer postgres.js settle its queries another way.
  if (typeof own !== 'function')
    throw new Error('postgres.js queries no longer have reject(): the COPY cannot be watched for a late error.')
  const refused = new Promise<never>((_, reject) => {
    driver.reject = (error: unknown) => {
      reject(error)
      return own.call(query, error)
    }
  })
  // A COPY refused outright rejects the query too, which `writable()` reports; one that succeeds never settles this.
  refused.catch(() => {})
  return refused
}
