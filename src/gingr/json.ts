/**
 * An answer's JSON, read as it arrives, never held whole. A list (`/reservations` of a busy month,
 * `/animals` of a large account) is one answer of tens of MB; JSON.parse of it needs the bytes,
 * the text (two bytes a character as soon as one is not Latin-1) and the whole tree at once, before
 * the validated records: 686 MB of peak RSS for a 72.6 MB window (issue 13).
 *
 * Here the bytes are split as they come: each record of the envelope's `data` (an array's
 * elements, an object's values) is cut out, parsed and handed to `each` (which validates it and
 * keeps what it needs) as soon as its last byte has arrived, and its bytes are dropped. The rest,
 * the envelope's skeleton, is kept, each record replaced by its number: JSON.parse of that short
 * text then gives the envelope, and the records in exactly the order JSON.parse of the whole
 * gives them (ids as keys in ascending order, a repeated id at its first place with its last
 * value). A record that is not JSON makes the answer invalid, as it did.
 *
 * Memory follows the records' size, not the answer's: blanks between records are never kept (100 MB
 * of spaces in `data` once held 375 MB), and a record past MAX_RECORD_BYTES is not kept either:
 * its bytes are only counted (never parsed: whether they are JSON is not asked), and `each` gets an
 * `OversizedRecord` (one invalid record) instead of a string of tens of MB (a 50 MB record once took
 * 1 GB, and quoted itself in every report).
 *
 * A body that does not start as an object (an array, a byte-order mark, an HTML page) is kept
 * whole and read as before: JSON.parse of its text.
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

/**
 * The largest record read: far past any real one. Notes run to 30 KB each (fields.ts), an animal
 * has six of them, and 10,000 reservations are 12.8 MB: a record of 4 MiB is no Gingr record.
 */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024

/** What `each` gets instead of a record larger than MAX_RECORD_BYTES: its size, never its bytes. */
export class OversizedRecord {
  constructor(readonly bytes: number) {}
}

/** The whole body as text, as fetch's `text()` would decode it (invalid UTF-8 as U+FFFD, no BOM). */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/** An answer split by `AnswerSplitter`: its skeleton, and what `each` made of each record. */
export interface SplitAnswer {
  /** The envelope's JSON text, each record of `data` replaced by its index in `results`. */
  skeleton: string
  results: unknown[]
  /** False when a record is not JSON: the answer is then invalid JSON, whatever its skeleton. */
  recordsParse: boolean
  /** The length of the whole body as text, in UTF-16 units (what its `text.length` was). */
  characters: number
  /** The envelope names `data` twice: which one is meant cannot be told (see http.ts). */
  duplicateData: boolean
}

const isSpace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d
const endsScalar = (byte: number) => isSpace(byte) || byte === COMMA || byte === CLOSE_ARRAY || byte === CLOSE_OBJECT

/** `push` each chunk of a body as it arrives, then `end()`: the split answer, or the whole body. */
export class AnswerSplitter {
  readonly #each: (record: unknown) => unknown
  #mode: 'start' | 'split' | 'whole' = 'start'
  /** Chunks kept while the body's first byte is not seen yet, and for ever in 'whole' mode. */
  #kept: Uint8Array[] = []
  readonly #skeleton = new ByteSink()
  readonly #results: unknown[] = []
  #recordsParse = true
  readonly #characters = new Utf16Count()

  // The scan's state, carried from one chunk to the next.
  #depth = 0
  #inString = false
  #escaped = false
  /** At depth 1, the next string is a member's name. */
  #atName = false
  /** The member's name being read (its bytes, quotes included); the last one read. */
  #name: Uint8Array[] | null = null
  #lastName = ''
  #dataNamed = 0
  /** Inside `data`'s array or object (depth 2): where its records are. */
  #records: 'array' | 'object' | null = null
  /** There, the next value is a record. */
  #atRecord = false
  /** The record being read: its bytes so far, and what ends it. */
  #record: Uint8Array[] | null = null
  #recordBytes = 0
  #recordKind: 'container' | 'string' | 'scalar' = 'scalar'

  constructor(each: (record: unknown) => unknown) {
    this.#each = each
  }

  push(chunk: Uint8Array): void {
    if (this.#mode === 'whole') {
      this.#kept.push(chunk)
      return
    }
    if (this.#mode === 'start') {
      let first = 0
      while (first < chunk.length && isSpace(chunk[first] as number)) first++
      if (first === chunk.length) {
        this.#kept.push(chunk)
        return
      }
      if (chunk[first] !== OPEN_OBJECT) {
        this.#mode = 'whole'
        this.#kept.push(chunk)
        return
      }
      this.#mode = 'split'
      for (const blank of this.#kept) this.#characters.add(blank)
      this.#kept = []
    }
    this.#characters.add(chunk)
    this.#scan(chunk)
  }

  end(): { split: SplitAnswer } | { whole: Uint8Array } {
    if (this.#mode !== 'split') return { whole: concat(this.#kept) }
    // A body cut off inside a record: what came of it is read, and fails like the rest would.
    if (this.#record !== null) this.#finishRecord()
    return {
      split: {
        skeleton: decoder.decode(this.#skeleton.bytes()),
        results: this.#results,
        recordsParse: this.#recordsParse,
        characters: this.#characters.total(),
        duplicateData: this.#dataNamed > 1,
      },
    }
  }

  /** One chunk: the skeleton is copied out in runs between records, each record cut out. */
  #scan(chunk: Uint8Array): void {
    let run = 0
    let nameFrom = 0
    let nextBackslash = -2
    for (let at = 0; at < chunk.length; at++) {
      let byte = chunk[at] as number
      if (this.#inString) {
        if (this.#escaped) {
          this.#escaped = false
          continue
        }
        // Inside a string only a quote or a backslash matters: jump to the next one, natively.
        if (nextBackslash !== -1 && nextBackslash < at) nextBackslash = chunk.indexOf(BACKSLASH, at)
        const quote = chunk.indexOf(QUOTE, at)
        if (nextBackslash !== -1 && (quote === -1 || nextBackslash < quote)) {
          at = nextBackslash
          this.#escaped = true
          continue
        }
        if (quote === -1) break
        at = quote
        this.#inString = false
        if (this.#name !== null) {
          this.#name.push(chunk.subarray(nameFrom, at + 1))
          this.#lastName = nameOf(concat(this.#name))
          this.#name = null
          if (this.#lastName === 'data') this.#dataNamed++
        }
        if (this.#record !== null && this.#recordKind === 'string' && this.#depth === 2) {
          this.#keep(chunk.subarray(run, at + 1))
          this.#finishRecord()
          run = at + 1
        }
        continue
      }
      if (this.#record !== null && this.#recordKind === 'scalar' && endsScalar(byte)) {
        this.#keep(chunk.subarray(run, at))
        this.#finishRecord()
        run = at
        byte = chunk[at] as number
      }
      if (isSpace(byte)) {
        // Blanks outside a record are dropped from the skeleton, a run of them at once.
        if (this.#record === null) {
          this.#skeleton.append(chunk.subarray(run, at))
          while (at + 1 < chunk.length && isSpace(chunk[at + 1] as number)) at++
          run = at + 1
        }
        continue
      }
      if (this.#record === null && this.#atRecord && this.#depth === 2 && byte !== CLOSE_ARRAY && byte !== CLOSE_OBJECT) {
        this.#skeleton.append(chunk.subarray(run, at))
        run = at
        this.#record = []
        this.#recordBytes = 0
        this.#atRecord = false
        this.#recordKind = byte === OPEN_OBJECT || byte === OPEN_ARRAY ? 'container' : byte === QUOTE ? 'string' : 'scalar'
      }
      switch (byte) {
        case QUOTE:
          this.#inString = true
          if (this.#depth === 1 && this.#atName) {
            this.#atName = false
            this.#name = []
            nameFrom = at
          }
          break
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          this.#depth++
          if (this.#depth === 1) this.#atName = true
          else if (this.#depth === 2 && this.#lastName === 'data') {
            this.#records = byte === OPEN_ARRAY ? 'array' : 'object'
            this.#atRecord = this.#records === 'array'
          }
          break
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          this.#depth--
          if (this.#depth === 1) {
            this.#records = null
            this.#atRecord = false
          }
          if (this.#record !== null && this.#recordKind === 'container' && this.#depth === 2) {
            this.#keep(chunk.subarray(run, at + 1))
            this.#finishRecord()
            run = at + 1
          }
          break
        case COMMA:
          if (this.#depth === 1) this.#atName = true
          else if (this.#depth === 2 && this.#records === 'array') this.#atRecord = true
          break
        case COLON:
          if (this.#depth === 2 && this.#records === 'object') this.#atRecord = true
          break
      }
    }
    if (this.#name !== null) this.#name.push(chunk.subarray(nameFrom))
    if (this.#record !== null) this.#keep(chunk.subarray(run))
    else this.#skeleton.append(chunk.subarray(run))
  }

  /** A piece of the record being read, kept while the record is within MAX_RECORD_BYTES. */
  #keep(bytes: Uint8Array): void {
    this.#recordBytes += bytes.length
    if (this.#recordBytes <= MAX_RECORD_BYTES) this.#record?.push(bytes)
    else if (this.#record !== null) this.#record.length = 0
  }

  /** The record's bytes parsed and handed to `each`; the skeleton gets its index instead. */
  #finishRecord(): void {
    const bytes = concat(this.#record ?? [])
    this.#record = null
    if (this.#recordBytes > MAX_RECORD_BYTES) {
      if (this.#recordsParse) this.#results.push(this.#each(new OversizedRecord(this.#recordBytes)))
      this.#skeleton.appendAscii(String(this.#results.length - 1))
      return
    }
    try {
      const value: unknown = JSON.parse(decoder.decode(bytes))
      if (this.#recordsParse) this.#results.push(this.#each(value))
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error
      this.#recordsParse = false
    }
    this.#skeleton.appendAscii(String(this.#results.length - 1))
  }
}

/** A member's name from its JSON string; '' when it is not one (the skeleton then fails anyway). */
function nameOf(bytes: Uint8Array): string {
  try {
    const name: unknown = JSON.parse(decoder.decode(bytes))
    return typeof name === 'string' ? name : ''
  } catch {
    return ''
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks)
}

/** Bytes appended into one buffer that doubles as needed. */
class ByteSink {
  #buffer = new Uint8Array(4096)
  #size = 0

  append(bytes: Uint8Array): void {
    this.#room(bytes.length)
    this.#buffer.set(bytes, this.#size)
    this.#size += bytes.length
  }

  appendAscii(text: string): void {
    this.#room(text.length)
    for (let index = 0; index < text.length; index++) this.#buffer[this.#size++] = text.charCodeAt(index)
  }

  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#size)
  }

  #room(more: number): void {
    if (this.#size + more <= this.#buffer.length) return
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#size + more))
    grown.set(this.#buffer.subarray(0, this.#size))
    this.#buffer = grown
  }
}

/**
 * The length in UTF-16 units of the text UTF-8 bytes decode to, as TextDecoder decodes them (the
 * Encoding Standard's decoder: each invalid sequence one U+FFFD, a code point past U+FFFF two
 * units), counted chunk by chunk. (A byte-order mark never reaches it: such a body is kept whole.)
 */
class Utf16Count {
  #units = 0
  /** Continuation bytes still expected, the range the next one must be in, and the sequence's length. */
  #needed = 0
  #lower = 0x80
  #upper = 0xbf
  #length = 0

  add(chunk: Uint8Array): void {
    for (let index = 0; index < chunk.length; index++) {
      const byte = chunk[index] as number
      if (byte < 0x80 && this.#needed === 0) this.#units++
      else this.#byte(byte)
    }
  }

  total(): number {
    // A sequence cut off by the end is one more U+FFFD.
    return this.#units + (this.#needed > 0 ? 1 : 0)
  }

  #byte(byte: number): void {
    if (this.#needed > 0) {
      if (byte >= this.#lower && byte <= this.#upper) {
        this.#lower = 0x80
        this.#upper = 0xbf
        this.#length++
        if (--this.#needed === 0) this.#units += this.#length === 4 ? 2 : 1
        return
      }
      // The sequence so far is one U+FFFD, and this byte starts afresh.
      this.#needed = 0
      this.#units++
    }
    if (byte <= 0x7f) this.#units++
    else if (byte >= 0xc2 && byte <= 0xdf) this.#begin(1, 0x80, 0xbf)
    else if (byte >= 0xe0 && byte <= 0xef) this.#begin(2, byte === 0xe0 ? 0xa0 : 0x80, byte === 0xed ? 0x9f : 0xbf)
    else if (byte >= 0xf0 && byte <= 0xf4) this.#begin(3, byte === 0xf0 ? 0x90 : 0x80, byte === 0xf4 ? 0x8f : 0xbf)
    else this.#units++
  }

  #begin(needed: number, lower: number, upper: number): void {
    this.#needed = needed
    this.#lower = lower
    this.#upper = upper
    this.#length = 1
  }
}
