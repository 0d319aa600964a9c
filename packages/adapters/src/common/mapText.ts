import { createMapper } from './createMapper.js';
import { JsonRecordSplitter, type SplitterOptions } from './JsonRecordSplitter.js';
import type { AdapterContext, RecordAdapter, SourcedResult } from './MappingResult.js';

/**
 * Maps a complete text (a file's content, a webhook body) through an adapter: split, map, flush.
 * The streaming shell does the same chunk by chunk.
 */
export function mapText<S>(adapter: RecordAdapter<S>, text: string, context: AdapterContext, splitter: SplitterOptions = {}): SourcedResult[] {
  const split = new JsonRecordSplitter(splitter);
  const mapper = createMapper(adapter, () => context);
  const out: SourcedResult[] = [];
  for (const input of [...split.push(text), ...split.end()]) out.push(...mapper.push(input));
  out.push(...mapper.end());
  return out;
}
