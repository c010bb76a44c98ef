import { ValidationException } from '../errors/index.js';

/** Lowest and highest status codes a `matcher.httpCode` may name (spec §5: "values 200–499"). */
export const HTTP_CODE_MATCHER_MIN = 200;
export const HTTP_CODE_MATCHER_MAX = 499;
/** spec §5: `matcher.httpCode` is a string of at most 2000 characters. */
const MAX_LENGTH = 2000;

/** A compiled `matcher.httpCode`: an O(1) membership test for response status codes. */
export class HttpCodeMatcher {
  /** One byte per code from HTTP_CODE_MATCHER_MIN to HTTP_CODE_MATCHER_MAX; 1 = success. */
  readonly #bits: Uint8Array;
  constructor(
    /** The text it was parsed from, e.g. `"200,202-204"`. */
    readonly httpCode: string,
    bits: Uint8Array,
  ) {
    this.#bits = bits;
  }
  /** Whether a health-check response with this status code counts as a success. */
  matches(statusCode: number): boolean {
    return this.#bits[statusCode - HTTP_CODE_MATCHER_MIN] === 1;
  }
}

const ELEMENT = /^(\d{1,3})(?:-(\d{1,3}))?$/;

/**
 * Parses a health-check `matcher.httpCode` (spec §5): a single code (`"200"`), a comma-separated
 * list (`"200,202"`), an inclusive range (`"200-299"`) or any mix (`"200,204-206,302"`). Codes
 * must lie in 200–499 and ranges must not run backwards; no spaces, no empty elements (the API
 * pattern is `[0-9-,]+`). Throws a ValidationException naming `matcher.httpCode` otherwise.
 */
export function parseHttpCodeMatcher(httpCode: string): HttpCodeMatcher {
  const fail = (message: string): never => {
    throw ValidationException.fromFields([{ name: 'matcher.httpCode', message }]);
  };
  if (httpCode.length === 0 || httpCode.length > MAX_LENGTH) {
    fail(`must be 1 to ${MAX_LENGTH} characters`);
  }
  const bits = new Uint8Array(HTTP_CODE_MATCHER_MAX - HTTP_CODE_MATCHER_MIN + 1);
  for (const element of httpCode.split(',')) {
    const m = ELEMENT.exec(element);
    if (!m) return fail(`'${element}' is not a status code or a range of status codes`);
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    for (const code of [low, high]) {
      if (code < HTTP_CODE_MATCHER_MIN || code > HTTP_CODE_MATCHER_MAX) {
        fail(`${code} is outside ${HTTP_CODE_MATCHER_MIN}-${HTTP_CODE_MATCHER_MAX}`);
      }
    }
    if (high < low) fail(`range '${element}' ends before it starts`);
    bits.fill(1, low - HTTP_CODE_MATCHER_MIN, high - HTTP_CODE_MATCHER_MIN + 1);
  }
  return new HttpCodeMatcher(httpCode, bits);
}
