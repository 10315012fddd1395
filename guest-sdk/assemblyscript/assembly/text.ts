// Text helpers AssemblyScript's standard library lacks, for the line
// processing flows do most (Go's strings.Fields, TrimSpace, ToLower).

/** Whether c is ASCII whitespace: space, \t, \n, \v, \f or \r. */
export function isSpace(c: i32): bool { return c == 32 || (c >= 9 && c <= 13); }

/** The words of s: its runs of characters other than ASCII whitespace. */
export function fields(s: string): Array<string> {
  const out = new Array<string>();
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (isSpace(s.charCodeAt(i))) {
      if (start >= 0) out.push(s.substring(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(s.substring(start));
  return out;
}

/** s without ASCII whitespace at either end. */
export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  return s.substring(a, b);
}

/** s with A-Z lower-cased and every other character kept; s itself when
 * it has nothing to change (no copy). */
export function lowerASCII(s: string): string {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
    i++;
  }
  if (i == s.length) return s;
  const codes = new Array<i32>(s.length);
  for (let j = 0; j < s.length; j++) {
    const c = s.charCodeAt(j);
    codes[j] = c >= 65 && c <= 90 ? c + 32 : c;
  }
  return String.fromCharCodes(codes);
}

/** s in lower case (Unicode, as Go's strings.ToLower), without a copy
 * when s is ASCII with no upper case letter. */
export function toLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (c >= 65 && c <= 90)) return s.toLowerCase();
  }
  return s;
}
