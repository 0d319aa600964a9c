/** 1-based line and column (UTF-16 units) of a position in a text. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
  /** The same position as a string index. */
  readonly index: number;
}

/** String index of a UTF-8 byte offset (cedar-wasm reports source locations in bytes). */
export function byteOffsetToIndex(text: string, byteOffset: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < byteOffset) {
    const cp = text.codePointAt(i) as number;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return i;
}

/** Line and column of a string index. */
export function locateIndex(text: string, index: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1, index: end };
}

/** Line and column of a UTF-8 byte offset reported by cedar-wasm. */
export function locateOffset(text: string, byteOffset: number): SourcePosition {
  return locateIndex(text, byteOffsetToIndex(text, byteOffset));
}
