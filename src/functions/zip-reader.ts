import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** One file of a zip archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated. */
  name: string;
  data: Buffer;
}

/** Lambda's limit on a function's unzipped code (spec of the Lambda service: 250 MB). */
export const MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;

/** A zip archive that cannot be read; the message says why. */
export class ZipError extends Error {
  override readonly name = 'ZipError';
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * Reads a zip archive (stored and deflated entries, as `zip`, Lambda tooling and most libraries
 * write): the central directory first, then each entry's data through its local header. Throws
 * `ZipError` for anything else (ZIP64, encryption, other methods, sizes that do not add up).
 */
export function readZip(buf: Buffer, maxBytes = MAX_UNZIPPED_BYTES): ZipEntry[] {
  if (buf.length < 22) throw new ZipError('not a zip archive (too short)');
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('not a zip archive (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff)
    throw new ZipError('ZIP64 archives are not supported');
  if (cdOffset + cdSize > eocd) throw new ZipError('central directory out of bounds');
  const entries: ZipEntry[] = [];
  let total = 0;
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL)
      throw new ZipError('bad central directory entry');
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 1) throw new ZipError(`${name}: encrypted entries are not supported`);
    if (name.endsWith('/')) continue; // directory
    total += size;
    if (total > maxBytes) throw new ZipError(`unzipped size exceeds ${maxBytes} bytes`);
    if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== LOCAL)
      throw new ZipError(`${name}: bad local header`);
    const start =
      localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    if (start + compressedSize > buf.length) throw new ZipError(`${name}: data out of bounds`);
    const raw = buf.subarray(start, start + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
      } catch (err) {
        throw new ZipError(`${name}: cannot inflate (${(err as Error).message})`);
      }
    } else throw new ZipError(`${name}: compression method ${method} is not supported`);
    if (data.length !== size) throw new ZipError(`${name}: size mismatch`);
    entries.push({ name, data });
  }
  return entries;
}

/** Writes a zip's files under `dir`, refusing paths that would land outside it (zip slip). */
export function extractZip(buf: Buffer, dir: string): number {
  const root = resolve(dir);
  const entries = readZip(buf);
  for (const e of entries) {
    const target = resolve(root, e.name);
    if (!target.startsWith(root + sep))
      throw new ZipError(`${e.name}: path leaves the archive root`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, e.data);
  }
  return entries.length;
}
