/**
 * Character classes of RFC 3261 §25.1 (token, unreserved, user-unreserved, password,
 * param-unreserved, hnv-unreserved, RFC 2396 reserved) as bit flags in one table, so a
 * class test is a load and an AND; shared by the scanner and the host parser.
 */
export const C_ALPHA = 1;
export const C_DIGIT = 2;
export const C_HEX = 4;
/** RFC 3261 token chars: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
export const C_TOKEN = 8;
/** unreserved = alphanum / mark */
export const C_UNRESERVED = 16;
/** user-unreserved: "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
export const C_USER_UNRES = 32;
/** password extra chars: "&" / "=" / "+" / "$" / "," */
export const C_PASSWORD = 64;
/** param-unreserved: "[" / "]" / "/" / ":" / "&" / "+" / "$" */
export const C_PARAM_UNRES = 128;
/** hnv-unreserved: "[" / "]" / "/" / "?" / ":" / "+" / "$" */
export const C_HNV_UNRES = 256;
/** RFC 2396 reserved: ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / "," */
export const C_RESERVED = 512;

export const CHAR = new Uint16Array(128);
function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) CHAR[chars.charCodeAt(i)]! |= flag;
}
for (let c = 0x41; c <= 0x5a; c++) CHAR[c] = C_ALPHA | C_TOKEN | C_UNRESERVED;
for (let c = 0x61; c <= 0x7a; c++) CHAR[c] = C_ALPHA | C_TOKEN | C_UNRESERVED;
for (let c = 0x30; c <= 0x39; c++) CHAR[c] = C_DIGIT | C_HEX | C_TOKEN | C_UNRESERVED;
mark('abcdefABCDEF', C_HEX);
mark("-.!%*_+`'~", C_TOKEN);
mark("-_.!~*'()", C_UNRESERVED);
mark('&=+$,;?/', C_USER_UNRES);
mark('&=+$,', C_PASSWORD);
mark('[]/:&+$', C_PARAM_UNRES);
mark('[]/?:+$', C_HNV_UNRES);
mark(';/?:@&=+$,', C_RESERVED);

export function isHex(c: number): boolean {
  return c < 128 && (CHAR[c]! & C_HEX) !== 0;
}

export function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

export function isAlpha(c: number): boolean {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

export function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || isAlpha(c);
}
