/** Outside text on its way to a log line, the run history or `status`: one printable line. */
import { describe, expect, test } from 'bun:test'
import { errorMessage } from '../src/errors.ts'
import { createLogger } from '../src/log.ts'
import { oneLine, printable } from '../src/text.ts'

describe('printable and oneLine', () => {
  const cases: Array<[string, string, string, string]> = [
    [
      'a forged log line',
      'Paws\n2026-01-01T00:00:00.000Z ERROR all tenants failed',
      'Paws 2026-01-01T00:00:00.000Z ERROR all tenants failed',
      'Paws 2026-01-01T00:00:00.000Z ERROR all tenants failed',
    ],
    ['terminal escapes', 'bad \u001b[2J\u001b[31mred', 'bad  [2J [31mred', 'bad [2J [31mred'],
    ['a carriage return that hides text', 'ok\rFAILED', 'ok FAILED', 'ok FAILED'],
    ['C1 controls and DEL', 'a\u0085b\u009bc\u007fd', 'a b c d', 'a b c d'],
    ['Unicode separators and bidi overrides', 'a\u2028b\u202ecba\u2066', 'a b cba ', 'a b cba'],
    ['a NUL', 'a\u0000b', 'a b', 'a b'],
    ['plain text, accents and emoji kept', '  Café 🐾  two  spaces ', '  Café 🐾  two  spaces ', 'Café 🐾 two spaces'],
  ]
  for (const [name, text, kept, folded] of cases) {
    test(name, () => {
      expect(printable(text)).toBe(kept)
      expect(oneLine(text)).toBe(folded)
    })
  }
  test('errorMessage is one printable line', () => {
    expect(errorMessage(new Error('Gingr said:\r\n\u001b[1mno\u001b[0m'))).toBe('Gingr said: [1mno [0m')
  })
})

describe('the log', () => {
  /** What a logger writes to a non-terminal stream (cron's log file). */
  function logged(write: (log: ReturnType<typeof createLogger>) => void): string[] {
    const lines: string[] = []
    const stream = { isTTY: false, write: (text: string) => void lines.push(...text.split('\n').filter(Boolean)) }
    write(createLogger({ stream: stream as unknown as NodeJS.WriteStream }))
    return lines
  }

  test('one entry is one line, whatever the text it carries', () => {
    const lines = logged((log) => log.info('   Tenant: Paws\n2026-01-01T00:00:00.000Z ERROR forged \u001b[2J'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ INFO {5}Tenant: Paws 2026-01-01T00:00:00.000Z ERROR forged {2}\[2J$/)
  })

  test('a stack trace (--verbose) keeps its lines, each printable and prefixed', () => {
    const error = new Error('boom\u001b[2J')
    const lines = logged((log) => log.error(error))
    expect(lines.length).toBeGreaterThan(1)
    for (const line of lines) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ ERROR /)
      expect(line).not.toContain('\u001b')
    }
  })
})
