/** Secrets hidden from every output, whole or in part, in any case (src/secrets.ts). */
import { describe, expect, test } from 'bun:test'
import { hideSecret } from '../src/secrets.ts'

const KEY = 'gk-HOSTILE-9f8e7d6c5b4a3210'

describe('hideSecret', () => {
  const cases: Array<[string, string]> = [
    [`key ${KEY} is wrong`, 'key [x] is wrong'],
    [`${KEY}x`, '[x]x'],
    ['key gk-HOSTILE-9f8e7d6c5b4a321 is wrong; prefix 9f8e7d6c5b4a3210', 'key [x] is wrong; prefix [x]'],
    [KEY.toUpperCase(), '[x]'],
    [encodeURIComponent(`a+${KEY}`), 'a%2B[x]'],
    ['a 9f8e7d6c b', 'a [x] b'],
    ['gk-HOST is seven, not eight', 'gk-HOST is seven, not eight'],
    ['nothing of it here', 'nothing of it here'],
    ['', ''],
  ]
  for (const [text, hidden] of cases) test(JSON.stringify(text), () => expect(hideSecret(text, KEY, '[x]')).toBe(hidden))

  test('a key with URL-special characters, in its form-encoded shape', () => {
    const key = 'k+y&z=1/2?3#4%5'
    expect(hideSecret(`key=${new URLSearchParams({ k: key }).toString().slice(2)}&x=1`, key, '[x]')).toBe('key=[x]&x=1')
  })

  test('a short secret is hidden only whole', () => {
    expect(hideSecret('pw12 and pw1', 'pw12', '***')).toBe('*** and pw1')
  })
})
