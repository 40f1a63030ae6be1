/**
 * Text from outside (Gingr's error pages, a business name, a driver's message) on its way to a log
 * line, the run history or `status`: control characters could forge a log line (a newline, then
 * "ERROR ..."), rewrite a terminal (ESC sequences) or hide text (CR, bidi overrides). Each run of
 * them becomes one space, so one entry stays one line.
 */
// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidi controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this regex's job.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, ' ')
}

/** printable(), with runs of white space folded and the ends trimmed. */
export function oneLine(text: string): string {
  return printable(text).replace(/\s+/g, ' ').trim()
}
