/**
 * Message heads are written straight into the buffer that goes to the socket, one byte per character (latin1: a
 * header value's octets pass through unchanged), instead of being concatenated into strings first: no chain of
 * intermediate strings per header, no flattening, one allocation per head. A JavaScript loop beats a call into C++
 * per piece for strings this short.
 */

/** Writes `s` (latin1: each character's low byte) into `buf` at `at`; returns the offset after it. */
export function putLatin1(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
  return at;
}

/** Writes `name: value\r\n` at `at`; returns the offset after it. */
export function putField(buf: Buffer, at: number, name: string, value: string): number {
  at = putLatin1(buf, at, name);
  buf[at++] = 58; // ':'
  buf[at++] = 32; // ' '
  at = putLatin1(buf, at, value);
  buf[at++] = 13;
  buf[at++] = 10;
  return at;
}

/** The bytes putField writes. */
export function fieldSize(name: string, value: string): number {
  return name.length + value.length + 4;
}
