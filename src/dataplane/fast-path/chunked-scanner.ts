import { FIELD_VALUE, HEX } from './char-tables.js';

const SIZE_FIRST = 0;
const SIZE = 1;
const EXT = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const TRAILER_START = 7;
const TRAILER_LINE = 8;
const TRAILER_LF = 9;
const END_LF = 10;
const DONE = 11;

/** Chunk sizes above this are refused (13 hex digits, well inside a double's exact range). */
const MAX_SIZE_DIGITS = 13;

/**
 * Finds where a chunked body ends (RFC 9112 §7.1) without changing it, so the bytes are relayed
 * as they came: a state machine fed any split of the stream. Strict: hex sizes, CRLF only,
 * extension and trailer bytes from the field-value table; anything else is an error.
 */
export class ChunkedScanner {
  private state = SIZE_FIRST;
  private digits = 0;
  private remaining = 0;
  /** The body's last byte was seen. */
  done = false;
  /** The framing is broken; the stream cannot be trusted any further. */
  error = false;

  reset(): void {
    this.state = SIZE_FIRST;
    this.digits = 0;
    this.remaining = 0;
    this.done = false;
    this.error = false;
  }

  /**
   * Scans `buf[start, end)`. Returns the offset just past the body when it ends inside this range
   * (`done` set), else `end`; on a framing error sets `error` and returns the offending offset.
   */
  scan(buf: Buffer, start: number, end: number): number {
    let i = start;
    let state = this.state;
    while (i < end) {
      const c = buf[i]!;
      switch (state) {
        case SIZE_FIRST:
        case SIZE: {
          const h = HEX[c]!;
          if (h !== 255) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail(i);
            this.remaining = this.remaining * 16 + h;
            state = SIZE;
          } else if (state === SIZE_FIRST) return this.fail(i);
          else if (c === 13) state = SIZE_LF;
          else if (c === 59 || c === 32 || c === 9) state = EXT;
          else return this.fail(i);
          i++;
          break;
        }
        case EXT:
          if (c === 13) state = SIZE_LF;
          else if (FIELD_VALUE[c] !== 1) return this.fail(i);
          i++;
          break;
        case SIZE_LF:
          if (c !== 10) return this.fail(i);
          this.digits = 0;
          state = this.remaining === 0 ? TRAILER_START : DATA;
          i++;
          break;
        case DATA: {
          const take = Math.min(this.remaining, end - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (c !== 13) return this.fail(i);
          state = DATA_LF;
          i++;
          break;
        case DATA_LF:
          if (c !== 10) return this.fail(i);
          state = SIZE_FIRST;
          i++;
          break;
        case TRAILER_START:
          state = c === 13 ? END_LF : TRAILER_LINE;
          if (state === TRAILER_LINE && FIELD_VALUE[c] !== 1) return this.fail(i);
          i++;
          break;
        case TRAILER_LINE:
          if (c === 13) state = TRAILER_LF;
          else if (FIELD_VALUE[c] !== 1) return this.fail(i);
          i++;
          break;
        case TRAILER_LF:
          if (c !== 10) return this.fail(i);
          state = TRAILER_START;
          i++;
          break;
        case END_LF:
          if (c !== 10) return this.fail(i);
          this.state = DONE;
          this.done = true;
          return i + 1;
        default:
          return this.fail(i);
      }
    }
    this.state = state;
    return end;
  }

  private fail(at: number): number {
    this.error = true;
    this.state = DONE;
    return at;
  }
}
