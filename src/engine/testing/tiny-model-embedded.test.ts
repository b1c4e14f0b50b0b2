// The studio's embedded WordNet model (public/models/wordnet-mini), through the CLI as a user runs it: it
// loads, its byte-level tokenizer encodes any text, its loss on held-out WordNet entries is the one its README states, and a LoRA of ordinary settings trained on the example dataset
// makes it answer held-out words' prompts in the taught card format, which the base model does not.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirSource } from '../io/source_node';
import { loadModel } from '../model/weights';
import { loadTokenizer } from '../text/tokenizer';
import { adherence } from './tiny-model-cards';

const repo = join(__dirname, '../../..');
const WORDNET = 'embedded';
const EMBEDDED = join(repo, 'public/models/wordnet-mini');
/** The README's held-out loss on tools/embedded/heldout-sample.jsonl (64 entries about held-out words). */
const README_SAMPLE_LOSS = 2.302;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

describe('embedded WordNet model (public/models/wordnet-mini)', () => {
  it('loads as a small qwen3 with a byte-level BPE that encodes any text', async () => {
    const m = await loadModel(dirSource(EMBEDDED));
    expect(m.config).toMatchObject({
      model_type: 'qwen3',
      hidden_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 32,
      intermediate_size: 384,
      vocab_size: 2048,
      tie_word_embeddings: true,
    });
    let params = 0;
    for (const t of m.weights.values()) params += t.data.length;
    expect(params).toBe(656_128);
    const bytes = readdirSync(EMBEDDED).reduce((a, f) => a + statSync(join(EMBEDDED, f)).size, 0);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
    const tok = loadTokenizer(m.files.tokenizerJson!, m.files.tokenizerConfig);
    expect(tok.vocabSize).toBe(2048);
    for (const text of ["What does 'dog' mean?", 'Grüße, 東京 😀 ∑ x² — ok\ttab\r\n']) {
      const ids = tok.encode(text, { addSpecialTokens: false });
      expect(Math.max(...ids)).toBeLessThan(2045);
      expect(tok.decode(ids)).toBe(text);
    }
    // merges learned from WordNet's English: common words are one token
    for (const w of [' person', ' kind', ' something', ' used'])
      expect(tok.encode(w, { addSpecialTokens: false }), w).toHaveLength(1);
    expect(m.files.chatTemplate).toContain('<|im_start|>');
  });

  it('has the held-out loss its README states (eval)', () => {
    const r = cli('eval', '--model', WORDNET, '--data', 'tools/embedded/heldout-sample.jsonl', '--quiet');
    expect(r.code, r.err).toBe(0);
    const { loss, tokens } = lastJson(r.out);
    expect(tokens).toBe(2628);
    expect(loss).toBeCloseTo(README_SAMPLE_LOSS, 2);
    expect(readFileSync(join(EMBEDDED, 'README.md'), 'utf8')).toContain(README_SAMPLE_LOSS.toFixed(3));
  }, 120_000);

  it('learns the example dataset’s card format and keeps it on held-out words; the base does not', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lora-embedded-'));
    const adapter = join(tmp, 'adapter');
    const t = cli(
      'train', '--model', WORDNET, '--data', 'public/data/wordnet-cards.jsonl', '--out', adapter,
      '--rank', '8', '--alpha', '16', '--targets', 'all-linear', '--dropout', '0', '--lr', '1e-3',
      '--batch-size', '8', '--epochs', '6', '--quiet',
    ); // prettier-ignore
    expect(t.code, t.err).toBe(0);
    const out = join(tmp, 'report.json');
    const e = cli(
      'evaluate', '--model', WORDNET, '--adapter', adapter, '--compare',
      '--data', 'public/data/wordnet-cards-heldout.jsonl', '--out', out, '--max-new-tokens', '48', '--quiet',
    ); // prettier-ignore
    expect(e.code, e.err).toBe(0);
    const rows = (
      JSON.parse(readFileSync(out, 'utf8')) as {
        rows: { prompt: string; prediction: string; base: { prediction: string } }[];
      }
    ).rows;
    expect(rows).toHaveLength(32);
    const tuned = adherence(rows.map((r) => ({ prompt: r.prompt, reply: r.prediction })));
    const base = adherence(rows.map((r) => ({ prompt: r.prompt, reply: r.base.prediction })));
    console.log(`card format on held-out prompts: tuned ${tuned}, base ${base}`);
    expect(tuned).toBeGreaterThanOrEqual(0.7);
    expect(base).toBeLessThanOrEqual(0.1);
  }, 600_000);
});
