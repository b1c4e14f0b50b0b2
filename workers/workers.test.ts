// Worker pieces that need no GPU: dataset import keeps rows as written (and reports bad lines), and the
// IndexedDB model cache serves a second load with no request to the source at all.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { memorySource, type FileSource } from '../src/engine/io/source';
import { openStudioDB } from '../src/storage';
import { importDataset } from './dataImport';
import { cachedSource, pickedSource } from './sources';

describe('importDataset', () => {
  it('keeps JSONL rows exactly as written and names bad lines', () => {
    const text = [
      '{"instruction":"Add","input":"2 + 3","output":"5","system":"calc"}',
      '{"instruction": broken}',
      '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}',
    ].join('\n');
    const r = importDataset(text, 'd.jsonl');
    expect(r.rows).toEqual([
      { instruction: 'Add', input: '2 + 3', output: '5', system: 'calc' },
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
        ],
      },
    ]);
    expect(r.errors.map((e) => e.where)).toEqual(['d.jsonl:2']);
    expect(r.formats).toEqual({ alpaca: 1, messages: 1 });
  });

  it('takes JSON array items by index and rebuilds CSV rows', () => {
    const json = importDataset('[{"text":"a"},{"nope":1},{"prompt":"p","completion":"c"}]', 'd.json');
    expect(json.rows).toEqual([{ text: 'a' }, { prompt: 'p', completion: 'c' }]);
    expect(json.errors[0].where).toBe('d.json item 2');
    const csv = importDataset('instruction,output\nSay hi,Hi!\n', 'd.csv');
    expect(csv.rows).toEqual([{ instruction: 'Say hi', input: '', output: 'Hi!' }]);
  });
});

describe('sources', () => {
  it('strips the picked folder name from paths', async () => {
    const f = (name: string) => new File(['x'], name);
    const src = pickedSource(
      [
        { path: 'model/config.json', file: f('config.json') },
        { path: 'model/sub/a.txt', file: f('a.txt') },
      ],
      'model',
    );
    expect(await src.list!()).toEqual(['config.json', 'sub/a.txt']);
    expect(await src.has('config.json')).toBe(true);
  });

  it('reads picked files by byte ranges (weights are read tensor by tensor)', async () => {
    const file = new File([new Uint8Array([10, 11, 12, 13, 14])], 'model.safetensors');
    const src = pickedSource([{ path: 'm/model.safetensors', file }], 'm');
    expect(Array.from(await src.range!('model.safetensors', 1, 4))).toEqual([11, 12, 13]);
  });

  it('a cached model loads again without touching the source', async () => {
    const db = await openStudioDB('workers-test');
    const inner = memorySource({ 'config.json': '{}', 'model.safetensors': new Uint8Array([1, 2, 3]) });
    const calls: string[] = [];
    const counting: FileSource = {
      label: 'hub',
      has: (p) => (calls.push(`has ${p}`), inner.has(p)),
      size: (p) => (calls.push(`size ${p}`), inner.size!(p)),
      text: (p) => (calls.push(`text ${p}`), inner.text(p)),
      bytes: (p, cb) => (calls.push(`bytes ${p}`), inner.bytes(p, cb)),
    };
    const load = async () => {
      const src = cachedSource(counting, db, 'hub|m|main');
      expect(await src.has('chat_template.jinja')).toBe(false);
      expect(await src.text('config.json')).toBe('{}');
      expect(Array.from(await src.bytes('model.safetensors'))).toEqual([1, 2, 3]);
      expect(Array.from(await src.range!('model.safetensors', 1, 3))).toEqual([2, 3]);
      await src.finish();
      return src.stats;
    };
    expect(await load()).toMatchObject({ cached: 0, downloaded: 2 });
    calls.length = 0;
    expect(await load()).toMatchObject({ cached: 2, downloaded: 0 });
    expect(calls).toEqual([]);
  });
});
