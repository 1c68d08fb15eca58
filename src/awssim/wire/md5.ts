// The MD5 digests SQS returns and the SDK verifies: of the body, and of the message attributes
// in SQS's documented binary encoding.

import { createHash } from 'node:crypto';
import type { MessageAttributeValue } from '../model/sqs-api.ts';

/** Hex MD5 of a UTF-8 string. */
export const md5Hex = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** MD5OfMessageAttributes: names sorted; length-prefixed name, type, transport byte and value. */
export function md5OfAttributes(attrs: Record<string, MessageAttributeValue>): string {
  const h = createHash('md5');
  const lp = (b: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len);
    h.update(b);
  };
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name] as MessageAttributeValue;
    lp(Buffer.from(name, 'utf8'));
    lp(Buffer.from(a.DataType, 'utf8'));
    if (a.BinaryValue !== undefined) {
      h.update(Buffer.from([2]));
      lp(Buffer.from(a.BinaryValue, 'base64'));
    } else {
      h.update(Buffer.from([1]));
      lp(Buffer.from(a.StringValue ?? '', 'utf8'));
    }
  }
  return h.digest('hex');
}
