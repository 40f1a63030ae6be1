/** The log of tenants side by side (src/commands/_blocks.ts): whole blocks, one streamed live. */
import { describe, expect, test } from 'bun:test'
import { type Lines, TenantBlocks } from '../src/commands/_blocks.ts'

function sink(): { out: Lines; printed: string[] } {
  const printed: string[] = []
  const write = (level: string) => (text: string) => void printed.push(`${level} ${text}`)
  return { out: { info: write('info'), warn: write('warn'), error: write('error') } as Lines, printed }
}

describe('tenant blocks', () => {
  test('one tenant alone: every line as it comes', () => {
    const { out, printed } = sink()
    const blocks = new TenantBlocks(out)
    blocks.of('a').info('a1')
    expect(printed).toEqual(['info a1'])
    blocks.of('a').warn('a2')
    blocks.end('a')
    expect(printed).toEqual(['info a1', 'warn a2'])
  })

  test('side by side: the first streams; one that ended meanwhile comes whole; the oldest in flight goes live', () => {
    const { out, printed } = sink()
    const blocks = new TenantBlocks(out)
    blocks.of('a').info('a1')
    blocks.of('b').info('b1')
    blocks.of('c').info('c1')
    blocks.of('c').error('c2')
    blocks.end('c')
    blocks.of('b').info('b2')
    expect(printed).toEqual(['info a1'])
    blocks.of('a').info('a2')
    blocks.end('a')
    // c ended first: whole; then b, in flight, so far, and live from now on.
    expect(printed).toEqual(['info a1', 'info a2', 'info c1', 'error c2', 'info b1', 'info b2'])
    blocks.of('b').info('b3')
    blocks.of('d').info('d1')
    blocks.end('b')
    blocks.end('d')
    expect(printed.slice(6)).toEqual(['info b3', 'info d1'])
  })
})
