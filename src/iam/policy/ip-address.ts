/**
 * IPv4/IPv6 addresses and CIDR blocks for `IpAddress`/`NotIpAddress` (aws:SourceIp). Every address
 * is held as four 32-bit words; an IPv4 address is its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`),
 * so one comparison serves both families and a mapped client address matches an IPv4 CIDR.
 */

/** A CIDR block compiled to a masked network address. */
export interface CidrBlock {
  readonly words: Uint32Array;
  readonly mask: Uint32Array;
}

function parseIpv4Words(text: string): number | undefined {
  let value = 0;
  let octets = 0;
  let current = -1;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; /* '.' terminator */
    if (c === 46) {
      if (current < 0 || octets === 4) return undefined;
      value = value * 256 + current;
      octets++;
      current = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && current === 0) return undefined; // no leading zeros (octal ambiguity)
      current = (current < 0 ? 0 : current) * 10 + (c - 48);
      digits++;
      if (current > 255) return undefined;
    } else return undefined;
  }
  return octets === 4 ? value >>> 0 : undefined;
}

function parseHextet(text: string): number | undefined {
  if (text.length === 0 || text.length > 4) return undefined;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return undefined;
    v = v * 16 + d;
  }
  return v;
}

function parseIpv6Groups(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseSide = (side: string): number[] | undefined => {
    if (side === '') return [];
    const parts = side.split(':');
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4Words(part);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        const h = parseHextet(part);
        if (h === undefined) return undefined;
        out.push(h);
      }
    }
    return out;
  };
  const head = parseSide(halves[0] as string);
  if (head === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = parseSide(halves[1] as string);
  if (tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Parses an IPv4 or IPv6 address (no zone id) into four words, or `undefined`. */
export function parseIpAddress(text: string): Uint32Array | undefined {
  if (text.includes(':')) {
    const groups = parseIpv6Groups(text);
    if (groups === undefined) return undefined;
    const w = new Uint32Array(4);
    for (let i = 0; i < 4; i++)
      w[i] = (((groups[2 * i] as number) << 16) | (groups[2 * i + 1] as number)) >>> 0;
    return w;
  }
  const v4 = parseIpv4Words(text);
  if (v4 === undefined) return undefined;
  return Uint32Array.of(0, 0, 0xffff, v4);
}

/** Parses `a.b.c.d/n`, `x::y/n` or a bare address (a /32 or /128). */
export function parseCidr(text: string): CidrBlock | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const words = parseIpAddress(addrText);
  if (words === undefined) return undefined;
  const isV4 = !addrText.includes(':');
  let prefix = isV4 ? 32 : 128;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > (isV4 ? 32 : 128)) return undefined;
  }
  if (isV4) prefix += 96;
  const mask = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    mask[i] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    words[i] = ((words[i] as number) & (mask[i] as number)) >>> 0;
  }
  return { words, mask };
}

/** True when the address lies inside the block. */
export function isInCidr(addr: Uint32Array, block: CidrBlock): boolean {
  for (let i = 0; i < 4; i++) {
    if (((addr[i] as number) & (block.mask[i] as number)) >>> 0 !== block.words[i]) return false;
  }
  return true;
}
