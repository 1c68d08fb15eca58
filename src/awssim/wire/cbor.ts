// A small CBOR (RFC 8949) codec for the Smithy RPC v2 CBOR protocol: definite and indefinite
// lengths, integers, floats (half, single, double), text, bytes, arrays, maps, and tag 1 (epoch
// seconds) as Date. Enough for what boto3 and the AWS SDKs send and expect.

/** Decodes one CBOR data item. Tag 1 becomes a Date; other tags yield their content. */
export function decodeCbor(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const BREAK = Symbol('break');
  const length = (info: number): number => {
    if (info < 24) return info;
    if (info === 24) return view.getUint8(at++);
    if (info === 25) {
      const v = view.getUint16(at);
      at += 2;
      return v;
    }
    if (info === 26) {
      const v = view.getUint32(at);
      at += 4;
      return v;
    }
    if (info === 27) {
      const v = Number(view.getBigUint64(at));
      at += 8;
      return v;
    }
    throw new Error(`CBOR: bad additional information ${info}`);
  };
  const half = (h: number): number => {
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    const sign = h & 0x8000 ? -1 : 1;
    if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
    if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    return sign * 2 ** (exp - 15) * (1 + mant / 1024);
  };
  const chunks = (major: number, info: number): Uint8Array => {
    if (info !== 31) {
      const n = length(info);
      const out = bytes.subarray(at, at + n);
      at += n;
      return out;
    }
    const parts: Uint8Array[] = [];
    for (;;) {
      const b = view.getUint8(at++);
      if (b === 0xff) break;
      if (b >> 5 !== major) throw new Error('CBOR: mixed chunks in an indefinite string');
      parts.push(chunks(major, b & 0x1f));
    }
    return Buffer.concat(parts);
  };
  const item = (): unknown => {
    const b = view.getUint8(at++);
    const major = b >> 5;
    const info = b & 0x1f;
    switch (major) {
      case 0:
        return length(info);
      case 1:
        return -1 - length(info);
      case 2:
        return new Uint8Array(chunks(2, info));
      case 3:
        return Buffer.from(chunks(3, info)).toString('utf8');
      case 4: {
        const out: unknown[] = [];
        if (info === 31) for (let v = item(); v !== BREAK; v = item()) out.push(v);
        else for (let n = length(info); n > 0; n--) out.push(item());
        return out;
      }
      case 5: {
        const out: Record<string, unknown> = {};
        const pair = (): boolean => {
          const k = item();
          if (k === BREAK) return false;
          out[String(k)] = item();
          return true;
        };
        if (info === 31) while (pair());
        else for (let n = length(info); n > 0; n--) pair();
        return out;
      }
      case 6: {
        const tag = length(info);
        const v = item();
        return tag === 1 && typeof v === 'number' ? new Date(v * 1000) : v;
      }
      default: {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22 || info === 23) return null;
        if (info === 25) {
          const v = half(view.getUint16(at));
          at += 2;
          return v;
        }
        if (info === 26) {
          const v = view.getFloat32(at);
          at += 4;
          return v;
        }
        if (info === 27) {
          const v = view.getFloat64(at);
          at += 8;
          return v;
        }
        if (info === 31) return BREAK;
        throw new Error(`CBOR: unsupported simple value ${info}`);
      }
    }
  };
  if (bytes.byteLength === 0) return {};
  return item();
}

/** Encodes a value as CBOR: Date as tag 1 (epoch seconds), undefined members left out. */
export function encodeCbor(value: unknown): Buffer {
  const out: number[] = [];
  const head = (major: number, n: number): void => {
    const m = major << 5;
    if (n < 24) out.push(m | n);
    else if (n < 0x100) out.push(m | 24, n);
    else if (n < 0x10000) out.push(m | 25, n >> 8, n & 0xff);
    else if (n < 0x100000000)
      out.push(m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
    else {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      out.push(m | 27, ...b);
    }
  };
  const float = (v: number): void => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    out.push(0xfb, ...b);
  };
  const put = (v: unknown): void => {
    if (v === null || v === undefined) out.push(0xf6);
    else if (v === false) out.push(0xf4);
    else if (v === true) out.push(0xf5);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) v >= 0 ? head(0, v) : head(1, -1 - v);
      else float(v);
    } else if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      head(3, b.length);
      out.push(...b);
    } else if (v instanceof Date) {
      out.push(0xc1);
      float(v.getTime() / 1000);
    } else if (v instanceof Uint8Array) {
      head(2, v.length);
      out.push(...v);
    } else if (Array.isArray(v)) {
      head(4, v.length);
      for (const x of v) put(x);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      head(5, entries.length);
      for (const [k, x] of entries) {
        put(k);
        put(x);
      }
    } else throw new Error(`CBOR: cannot encode ${typeof v}`);
  };
  put(value);
  return Buffer.from(out);
}
