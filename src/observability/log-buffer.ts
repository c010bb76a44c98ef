/**
 * A bounded buffer of pending log lines, stored as UTF-8 bytes in 64 KiB chunks: a buffered record
 * is not a live JS string (thousands of retained strings cost the garbage collector far more than
 * formatting them — bench/monitoring.md), and a batch comes out as one Buffer ready to write.
 *
 * When more than `capacity` records are buffered the OLDEST chunk (at most capacity/8 records) is
 * dropped — newer records are worth more to an operator than older ones — and its records are
 * counted in `overflowed`; nothing here ever blocks the caller.
 */
const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 10;

class Chunk {
  readonly bytes: Buffer;
  used = 0;
  records = 0;
  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
  }
}

export class LogBuffer {
  private chunks: Chunk[] = [];
  private records = 0;
  /** Records dropped because the buffer was full, since creation. */
  overflowed = 0;

  /** A chunk takes at most this many records, so overflow drops at most 1/8 of the capacity. */
  private readonly recordsPerChunk: number;

  constructor(readonly capacity: number) {
    this.recordsPerChunk = Math.max(1, Math.floor(capacity / 8));
  }

  /** Records buffered now. */
  get length(): number {
    return this.records;
  }

  /** Adds one line (a newline is appended); returns false when older records had to be dropped. */
  push(line: string): boolean {
    let last = this.chunks[this.chunks.length - 1];
    // A UTF-8 byte per UTF-16 unit is at most 3: when that surely fits, skip measuring.
    let need = line.length * 3 + 1;
    if (last !== undefined && last.records >= this.recordsPerChunk) last = undefined;
    if (last === undefined || last.bytes.length - last.used < need) {
      need = Buffer.byteLength(line) + 1;
      if (last === undefined || last.bytes.length - last.used < need) {
        last = new Chunk(Math.max(CHUNK_BYTES, need));
        this.chunks.push(last);
      }
    }
    last.used += last.bytes.write(line, last.used, 'utf8');
    last.bytes[last.used++] = NEWLINE;
    last.records++;
    this.records++;
    let ok = true;
    while (this.records > this.capacity && this.chunks.length > 1) {
      const oldest = this.chunks.shift()!;
      this.records -= oldest.records;
      this.overflowed += oldest.records;
      ok = false;
    }
    return ok;
  }

  /**
   * Removes whole chunks, oldest first, until at least `maxRecords` records (or all) are taken;
   * returns their bytes (newline-terminated lines) and how many records they hold.
   */
  take(maxRecords = Infinity): { data: Buffer; records: number } {
    const taken: Buffer[] = [];
    let records = 0;
    while (this.chunks.length > 0 && records < maxRecords) {
      const c = this.chunks.shift()!;
      taken.push(c.bytes.subarray(0, c.used));
      records += c.records;
    }
    this.records -= records;
    const data = taken.length === 1 ? taken[0]! : Buffer.concat(taken);
    return { data, records };
  }
}
