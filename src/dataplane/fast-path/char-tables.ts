/**
 * 256-entry byte tables for the HTTP/1.1 head parsers (RFC 9110 §5.6.2, RFC 9112 §5): one array
 * index per byte instead of comparisons (STYLE.md, undici habits).
 */

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** `tchar`: header field names and methods. */
export const TOKEN = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_SYMBOLS.includes(String.fromCharCode(c)),
);

/** Field value bytes: VCHAR, SP, HTAB and obs-text; never CR, LF, NUL or other controls. */
export const FIELD_VALUE = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/** Request-target bytes accepted on the fast path: visible ASCII (anything else goes to Node). */
export const TARGET = table((c) => c > 0x20 && c < 0x7f);

/** 1 for the ASCII upper-case letters (names are lower-cased only when they have one). */
export const UPPER = table((c) => c >= 0x41 && c <= 0x5a);

/** Hex digit value, or 255. */
export const HEX = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();
