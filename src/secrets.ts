/**
 * The last line of defence for secrets: every message gingr-sync prints passes through `redact`,
 * so that a key echoed back by Gingr or a password inside a driver's message never reaches a
 * terminal, a log file or a JSON report.
 */
const secrets = new Set<string>()

export function registerSecrets(values: readonly string[]): void {
  for (const value of values) if (value.length >= 4) secrets.add(value)
}

export function redact(text: string): string {
  let out = text
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, '***')
    const encoded = encodeURIComponent(secret)
    if (encoded !== secret && out.includes(encoded)) out = out.replaceAll(encoded, '***')
  }
  return out
}
