import type { AdapterInput } from './MappingResult.js';

/**
 * How records are laid out in the input:
 * - `jsonl`: one JSON value per line (Vault audit files, Kubernetes audit logs, most log shippers);
 * - `json`: JSON values of any layout, pretty-printed or concatenated;
 * - `auto` (default): `jsonl` unless the first value spans several lines.
 * In every layout, a top-level array and the `Records` array of a CloudTrail log file are split into
 * their elements, so a large file is never held in memory as one value. A line that is not JSON at all
 * (a compact JWT, garbage) is one text record.
 */
export type RecordLayout = 'auto' | 'jsonl' | 'json';

export interface SplitterOptions {
  readonly layout?: RecordLayout;
  /** Largest record in characters; larger ones become an `oversized` output. Default 1 MiB. */
  readonly maxRecordChars?: number;
}

/** An input too large to hold: it stays in the stream as a dead letter with its first KiB. */
export interface OversizedInput {
  readonly raw: string;
  readonly oversized: true;
}

export type SplitOutput = AdapterInput | OversizedInput;

export const isOversized = (o: SplitOutput): o is OversizedInput => (o as OversizedInput).oversized === true;

const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const NL = 0x0a;
const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff;
const KEEP_OF_OVERSIZED = 1024;

/**
 * Incremental splitter of a character stream into JSON records. Pure (no I/O): the shell feeds it
 * decoded text chunks. Memory is bounded by `maxRecordChars` per record; structure outside records
 * (the CloudTrail wrapper, array brackets) is scanned but not buffered.
 */
export class JsonRecordSplitter {
  private readonly maxChars: number;
  private lineMode: boolean | undefined;
  /** Containers open at this point of the stream, innermost last. */
  private stack: number[] = [];
  private inString = false;
  private escape = false;
  /** Stack length at which array elements are records (0: not inside such an array). */
  private collectionDepth = 0;

  // The record being captured.
  private mode: 'between' | 'value' | 'scalar' | 'text' = 'between';
  /** Stack length of the captured value's own container (value) or of its parent (scalar). */
  private captureDepth = 0;
  private spansLine = false;
  private overflow = false;
  private parts: string[] = [];
  private length = 0;

  // Members of a top-level object, to recognise `"Records": [`.
  private keyChars: string[] | undefined;
  private lastKey: string | undefined;
  private afterColon = false;

  constructor(options: SplitterOptions = {}) {
    this.maxChars = options.maxRecordChars ?? 1024 * 1024;
    const layout = options.layout ?? 'auto';
    this.lineMode = layout === 'auto' ? undefined : layout === 'jsonl';
  }

  push(chunk: string): SplitOutput[] {
    const out: SplitOutput[] = [];
    let seg = this.mode === 'between' ? -1 : 0;
    const take = (end: number): void => {
      if (seg >= 0 && end > seg) this.append(chunk.slice(seg, end));
      seg = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);

      if (this.mode === 'text') {
        if (c === NL) {
          take(i);
          out.push(this.finish());
        }
        continue;
      }

      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === BACKSLASH) this.escape = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.keyChars) {
            this.lastKey = this.keyChars.join('');
            this.keyChars = undefined;
          }
        } else if (this.keyChars && this.keyChars.length < 64) this.keyChars.push(chunk[i]!);
        continue;
      }

      if (c === NL && this.mode !== 'between') {
        if (this.lineMode === true && this.mode === 'value') {
          // A JSONL record cannot contain a raw newline: the line was cut. Dead-letter it and resync.
          take(i);
          out.push(this.finish('the line ended inside a JSON value'));
          this.resetStructure();
          continue;
        }
        this.spansLine = true;
      }

      if (this.mode === 'scalar' && this.stack.length === this.captureDepth && (c === COMMA || c === CLOSE_ARR || c === CLOSE_OBJ)) {
        take(i);
        out.push(this.finish());
        // fall through: the delimiter is structure
      }

      if (this.mode === 'between') {
        if (isWs(c) || (c === COMMA && this.collectionDepth > 0)) continue;
        if (this.collectionDepth > 0 && this.stack.length === this.collectionDepth) {
          if (c === CLOSE_ARR || c === CLOSE_OBJ) {
            this.stack.pop();
            this.collectionDepth = 0;
            continue;
          }
          seg = i;
          if (c === OPEN_OBJ || c === OPEN_ARR) {
            this.stack.push(c);
            this.begin('value', this.stack.length);
          } else {
            this.begin('scalar', this.stack.length);
            if (c === QUOTE) this.inString = true;
          }
          continue;
        }
        if (this.stack.length > 0) {
          // The rest of a wrapper object after its `Records` array: scanned, not kept.
          if (c === QUOTE) this.inString = true;
          else if (c === OPEN_OBJ || c === OPEN_ARR) this.stack.push(c);
          else if (c === CLOSE_OBJ || c === CLOSE_ARR) this.stack.pop();
          continue;
        }
        if (c === OPEN_ARR) {
          this.stack.push(c);
          this.collectionDepth = 1;
          continue;
        }
        seg = i;
        if (c === OPEN_OBJ) {
          this.stack.push(c);
          this.begin('value', 1);
          this.lastKey = undefined;
          this.afterColon = false;
        } else {
          this.begin('text', 0);
        }
        continue;
      }

      // Capturing a value or a scalar.
      const topObject = this.captureDepth === 1 && this.stack.length === 1 && this.collectionDepth === 0;
      if (c === QUOTE) {
        this.inString = true;
        if (topObject && !this.afterColon) this.keyChars = [];
      } else if (c === COLON && topObject) {
        this.afterColon = true;
      } else if (c === COMMA && topObject) {
        this.afterColon = false;
        this.lastKey = undefined;
      } else if (c === OPEN_OBJ || c === OPEN_ARR) {
        if (c === OPEN_ARR && topObject && this.afterColon && this.lastKey === 'Records') {
          // A CloudTrail log file: drop the wrapper read so far; the array's elements are the records.
          this.stack.push(c);
          this.collectionDepth = this.stack.length;
          this.mode = 'between';
          this.parts = [];
          this.length = 0;
          seg = -1;
          continue;
        }
        this.stack.push(c);
      } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        this.stack.pop();
        if (this.mode === 'value' && this.stack.length < this.captureDepth) {
          take(i + 1);
          out.push(this.finish());
          continue;
        }
      }
      if (!this.overflow && seg >= 0 && this.length + (i + 1 - seg) > this.maxChars) {
        take(i + 1);
        this.overflow = true;
      }
    }
    if (this.mode !== 'between') take(chunk.length);
    return out;
  }

  /** End of input: whatever is left is an incomplete record. */
  end(): SplitOutput[] {
    const out: SplitOutput[] = [];
    if (this.mode === 'text' || this.mode === 'scalar') out.push(this.finish());
    else if (this.mode === 'value') out.push(this.finish('the input ended inside a JSON value'));
    this.resetStructure();
    return out;
  }

  private begin(mode: 'value' | 'scalar' | 'text', depth: number): void {
    this.mode = mode;
    this.captureDepth = depth;
    this.spansLine = false;
    this.overflow = false;
    this.parts = [];
    this.length = 0;
  }

  private append(s: string): void {
    if (this.overflow) return;
    this.parts.push(s);
    this.length += s.length;
    if (this.length > this.maxChars) {
      this.overflow = true;
      const joined = this.parts.join('');
      this.parts = [joined.slice(0, KEEP_OF_OVERSIZED)];
    }
  }

  private finish(cutReason?: string): SplitOutput {
    const wasValue = this.mode === 'value';
    const raw = this.parts.join('').trim();
    const overflow = this.overflow;
    if (wasValue && this.lineMode === undefined && cutReason === undefined) this.lineMode = !this.spansLine;
    this.mode = 'between';
    this.parts = [];
    this.length = 0;
    this.overflow = false;
    if (overflow) return { raw, oversized: true };
    if (cutReason !== undefined) return { raw, parsed: { ok: false, error: cutReason } };
    try {
      return { raw, parsed: { ok: true, value: JSON.parse(raw) as unknown } };
    } catch (e) {
      return { raw, parsed: { ok: false, error: (e as Error).message } };
    }
  }

  private resetStructure(): void {
    this.stack = [];
    this.inString = false;
    this.escape = false;
    this.collectionDepth = 0;
    this.keyChars = undefined;
    this.lastKey = undefined;
    this.afterColon = false;
    this.mode = 'between';
    this.parts = [];
    this.length = 0;
    this.overflow = false;
  }
}
