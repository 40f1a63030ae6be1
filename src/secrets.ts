/**
 * The last line of defence for secrets: every message gingr-sync prints passes through `redact`,
 * so that a key echoed back by Gingr or a password inside a driver's message never reaches a
 * terminal, a log file or a JSON report.
 *
 * A secret echoed whole is not the only leak: an error text may quote most of it (cut, or with a
 * character changed), or in another case. So every run of PIECE or more characters that also
 * stands in a secret (case aside) is hidden too, not just the whole secret.
 */
const secrets = new Set<string>()

/** Shorter runs than this are too likely to stand in ordinary text by chance. */
const PIECE = 8

export function registerSecrets(values: readonly string[]): void {
  for (const value of values) if (value.length >= 4) secrets.add(value)
}

export function redact(text: string): string {
  let out = text
  for (const secret of secrets) out = hideSecret(out, secret, '***')
  return out
}

/** `text` with `secret` (whole, URL-encoded, or any PIECE-character run of it, any case) replaced. */
export function hideSecret(text: string, secret: string, mask: string): string {
  let out = text
  for (const form of new Set([secret, encodeURIComponent(secret), new URLSearchParams({ k: secret }).toString().slice(2)])) {
    if (out.includes(form)) out = out.replaceAll(form, mask)
  }
  return secret.length >= PIECE ? hidePieces(out, secret, mask) : out
}

function hidePieces(text: string, secret: string, mask: string): string {
  const lower = text.toLowerCase()
  const wanted = secret.toLowerCase()
  const pieces = new Set<string>()
  for (let at = 0; at + PIECE <= wanted.length; at++) pieces.add(wanted.slice(at, at + PIECE))
  // Cheap first: most texts hold no piece at all.
  if (![...pieces].some((piece) => lower.includes(piece))) return text
  const hidden = new Uint8Array(text.length)
  for (let at = 0; at + PIECE <= lower.length; at++) {
    if (pieces.has(lower.slice(at, at + PIECE))) hidden.fill(1, at, at + PIECE)
  }
  let out = ''
  for (let at = 0; at < text.length; at++) {
    if (!hidden[at]) out += text[at]
    else if (at === 0 || !hidden[at - 1]) out += mask
  }
  return out
}
