/**
 * Where a JSON text first breaks the grammar, as a line and a column. Bun's JSON.parse says what
 * it found instead ("Unexpected identifier "d41d8cd9…""), which quotes the text: in a settings file
 * that may be an API key. A position says where to look and quotes nothing.
 */
export interface JsonPosition {
  line: number
  column: number
}

/** The position of the first syntax error, or undefined when `text` is valid JSON. */
export function jsonSyntaxError(text: string): JsonPosition | undefined {
  let at = 0
  const fail = (): never => {
    throw new Stop(at)
  }
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text.charAt(at))) at++
  }
  const literal = (word: string) => {
    if (text.startsWith(word, at)) at += word.length
    else fail()
  }
  const string = () => {
    at++ // the opening quote
    for (;;) {
      const char = text[at]
      if (char === undefined || char < ' ') fail()
      if (char === '"') {
        at++
        return
      }
      if (char === '\\') {
        at++
        const escaped = text.charAt(at)
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail()
          at += 5
        } else if (escaped !== '' && '"\\/bfnrt'.includes(escaped)) at++
        else fail()
      } else at++
    }
  }
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 400))
    at += match ? match[0].length : fail()
  }
  const value = (): void => {
    space()
    const char = text[at]
    if (char === '{') members('}', member)
    else if (char === '[') members(']', value)
    else if (char === '"') string()
    else if (char === 't') literal('true')
    else if (char === 'f') literal('false')
    else if (char === 'n') literal('null')
    else number()
  }
  const member = () => {
    space()
    if (text[at] !== '"') fail()
    string()
    space()
    if (text[at] !== ':') fail()
    at++
    value()
  }
  let depth = 0
  const members = (close: string, member: () => void) => {
    // Deeper than any settings file needs, and shallow enough for the call stack.
    if (++depth > MAX_DEPTH) fail()
    at++
    space()
    if (text[at] === close) {
      at++
      depth--
      return
    }
    for (;;) {
      member()
      space()
      if (text[at] === ',') at++
      else if (text[at] === close) {
        at++
        depth--
        return
      } else fail()
    }
  }
  try {
    value()
    space()
    if (at < text.length) fail()
    return undefined
  } catch (error) {
    if (!(error instanceof Stop)) throw error
    return positionOf(text, error.offset)
  }
}

const MAX_DEPTH = 500

class Stop {
  constructor(readonly offset: number) {}
}

function positionOf(text: string, offset: number): JsonPosition {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}
