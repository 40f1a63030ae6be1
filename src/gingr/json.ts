/**
 * An answer's JSON, read without building it whole. A list (`/reservations` of a busy month,
 * `/animals` of a large account) is one answer of tens of MB; JSON.parse of it needs the text (two
 * bytes a character as soon as one is not Latin-1), then the whole tree, beside the bytes and
 * before the validated records: 686 MB of peak RSS for a 72.6 MB window (BENCHMARKS.md, issue 13).
 *
 * Here the envelope's skeleton is scanned on the bytes, and each record of its `data` (an array's
 * elements, an object's values) is kept as a `RawJson`, where it lies in the bytes, to be parsed
 * when it is validated and dropped then: the bytes, one record's tree and the records validated so
 * far are all that is ever held. Only the skeleton is checked here; a record that is not JSON
 * throws `InvalidJsonRecord` when it is read, which the client treats as the invalid answer it is.
 * Anything this scan does not read (a top-level value that is not an object, a BOM, a body cut off)
 * is left to JSON.parse of the whole text, so such an answer means what it always meant.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

const decoder = new TextDecoder()

/** The whole body as text, as fetch's `text()` would decode it (invalid UTF-8 as U+FFFD, no BOM). */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/** A record of an answer that is not JSON: the answer is broken, as if JSON.parse had failed on it. */
export class InvalidJsonRecord extends Error {}

/** One value of an answer, still bytes. */
export class RawJson {
  readonly #bytes: Uint8Array
  readonly #start: number
  readonly #end: number

  constructor(bytes: Uint8Array, start: number, end: number) {
    this.#bytes = bytes
    this.#start = start
    this.#end = end
  }

  /** The value, parsed; `InvalidJsonRecord` when it is not JSON. */
  parse(): unknown {
    try {
      return JSON.parse(decoder.decode(this.#bytes.subarray(this.#start, this.#end)))
    } catch {
      throw new InvalidJsonRecord('A record of the answer is not JSON.')
    }
  }
}

/** A value as a reader gets it: parsed, whether it came whole or as a RawJson. */
export function parsed(value: unknown): unknown {
  return value instanceof RawJson ? value.parse() : value
}

/** `data` with every record parsed, for the few readers that want the tree (`/owner`). */
export function parsedData<T>(data: T): T {
  if (Array.isArray(data)) return data.map(parsed) as T
  if (typeof data !== 'object' || data === null) return data
  const whole: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(data)) defineValue(whole, key, parsed(value))
  return whole as T
}

/** Every record of `data` is JSON (a broken answer's error must not hide that it is broken). */
export function everyRecordParses(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return true
  try {
    for (const value of Object.values(data)) parsed(value)
    return true
  } catch (error) {
    if (error instanceof InvalidJsonRecord) return false
    throw error
  }
}

/**
 * The top-level object with the records of its `data` member left as RawJson, its other members
 * parsed; undefined when the bytes are anything else (see the header: JSON.parse decides those).
 */
export function parseEnvelope(bytes: Uint8Array): Record<string, unknown> | undefined {
  const scan = new Scanner(bytes)
  const envelope: Record<string, unknown> = {}
  if (!scan.take(OPEN_OBJECT)) return undefined
  if (!scan.take(CLOSE_OBJECT)) {
    do {
      const key = scan.key()
      if (key === undefined) return undefined
      const value = key === 'data' ? scan.records() : scan.value()
      if (value === UNREAD) return undefined
      defineValue(envelope, key, value)
    } while (scan.take(COMMA))
    if (!scan.take(CLOSE_OBJECT)) return undefined
  }
  return scan.atEnd() ? envelope : undefined
}

/** What the scan could not read. */
const UNREAD = Symbol('unread')

/** JSON.parse's own way of setting a member: a data property, even for `__proto__`; the last one of a name wins. */
function defineValue(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true })
}

class Scanner {
  #at = 0
  readonly #bytes: Uint8Array

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  /** JSON's whitespace only (space, tab, newline, carriage return). */
  #skipSpace(): void {
    const bytes = this.#bytes
    let at = this.#at
    while (at < bytes.length) {
      const byte = bytes[at]
      if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) break
      at++
    }
    this.#at = at
  }

  take(byte: number): boolean {
    this.#skipSpace()
    if (this.#bytes[this.#at] !== byte) return false
    this.#at++
    return true
  }

  atEnd(): boolean {
    this.#skipSpace()
    return this.#at === this.#bytes.length
  }

  /** A member's name and its colon. */
  key(): string | undefined {
    this.#skipSpace()
    if (this.#bytes[this.#at] !== QUOTE) return undefined
    const key = this.value()
    return typeof key === 'string' && this.take(COLON) ? key : undefined
  }

  /** The next value, parsed. */
  value(): unknown {
    const end = this.#valueEnd()
    if (end === -1) return UNREAD
    const start = this.#at
    this.#at = end
    try {
      return JSON.parse(decoder.decode(this.#bytes.subarray(start, end)))
    } catch {
      return UNREAD
    }
  }

  /** `data`: an array or object of RawJson; any other value parsed, as it is no list. */
  records(): unknown {
    const list = this.take(OPEN_ARRAY)
    if (!list && !this.take(OPEN_OBJECT)) return this.value()
    const close = list ? CLOSE_ARRAY : CLOSE_OBJECT
    const items: unknown[] = []
    const members: Record<string, unknown> = {}
    if (this.take(close)) return list ? items : members
    do {
      const key = list ? '' : this.key()
      if (key === undefined) return UNREAD
      this.#skipSpace()
      const end = this.#valueEnd()
      if (end === -1) return UNREAD
      const raw = new RawJson(this.#bytes, this.#at, end)
      this.#at = end
      if (list) items.push(raw)
      else defineValue(members, key, raw)
    } while (this.take(COMMA))
    if (!this.take(close)) return UNREAD
    return list ? items : members
  }

  /**
   * Where the value at the cursor ends: a string at its closing quote, an object or array at its
   * matching bracket (strings inside skipped), anything else at the next delimiter; -1 when it
   * runs off the end or is empty. Its inside is checked only when it is parsed.
   */
  #valueEnd(): number {
    this.#skipSpace()
    const bytes = this.#bytes
    const start = this.#at
    const first = bytes[start]
    if (first === QUOTE) return this.#stringEnd(start)
    if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
      let at = start
      while (at < bytes.length && !isDelimiter(bytes[at])) at++
      return at > start ? at : -1
    }
    let depth = 0
    for (let at = start; at < bytes.length; ) {
      const byte = bytes[at]
      if (byte === QUOTE) {
        at = this.#stringEnd(at)
        if (at === -1) return -1
        continue
      }
      if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++
      else if ((byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) && --depth === 0) return at + 1
      at++
    }
    return -1
  }

  /** Past the closing quote of the string opening at `start`: the next quote not escaped (found natively). */
  #stringEnd(start: number): number {
    const bytes = this.#bytes
    for (let from = start + 1; ; ) {
      const quote = bytes.indexOf(QUOTE, from)
      if (quote === -1) return -1
      let backslashes = 0
      while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++
      if (backslashes % 2 === 0) return quote + 1
      from = quote + 1
    }
  }
}

function isDelimiter(byte: number | undefined): boolean {
  return byte === COMMA || byte === CLOSE_OBJECT || byte === CLOSE_ARRAY || byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d
}
