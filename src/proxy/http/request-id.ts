/**
 * x-request-id values: random (version 4) UUIDs, as Envoy generates them, one per request that arrives without one.
 * crypto.randomUUID() builds each from 20 string concatenations; here 16 random bytes from a batch (one
 * randomFillSync per 256 ids) are written as hex into one scratch buffer and read back as one string.
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 256;
const random = Buffer.allocUnsafe(16 * BATCH);
let next = BATCH;
const text = Buffer.allocUnsafe(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes goes in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
text[8] = text[13] = text[18] = text[23] = 45; // '-'

export function newRequestId(): string {
  if (next === BATCH) {
    randomFillSync(random);
    next = 0;
  }
  const base = next++ * 16;
  for (let i = 0; i < 16; i++) {
    let byte = random[base + i]!;
    if (i === 6)
      byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 9562 variant
    const at = AT[i]!;
    text[at] = HEX[byte >> 4]!;
    text[at + 1] = HEX[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}
