// `export` to merged folders, GGUF files and Modelfiles, on a tiny model with a random adapter: what each
// format writes, --dtype, and every refusal (missing adapter, bad dtype, a path that cannot be a folder,
// an existing file without --force) happening before anything is written; a failure mid-way leaves nothing.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGguf } from '../engine/export/gguf-read';
import { mergeAdapter } from '../engine/export/merge';
import { lazyFile } from '../engine/export/output';
import { randomAdapter } from '../engine/export/testing';
import { writeAdapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { loadModel, type LoadedModel } from '../engine/model/weights';
import { makeTinyModel } from '../engine/testing/tiny-model';
import { writeTinyModel } from '../engine/testing/tiny-model_node';
import { exportCmd, writeOutputsAtomic, type ExportArgs } from './export';

const repo = join(__dirname, '../..');
let tmp: string;
let modelDir: string;
let adapterDir: string;
let model: LoadedModel;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-export-'));
  modelDir = join(tmp, 'model');
  adapterDir = join(tmp, 'adapter');
  await writeTinyModel(
    modelDir,
    makeTinyModel({ arch: 'llama', vocab: 400, hidden: 32, layers: 1, ropeScaling: 'llama3' }),
  );
  model = await loadModel(dirSource(modelDir));
  mkdirSync(adapterDir);
  const files = writeAdapter(model.config, randomAdapter(model.config, { rslora: true }));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(adapterDir, name), bytes);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (a: Partial<ExportArgs>) =>
  exportCmd({
    model: modelDir,
    format: 'gguf-merged',
    out: join(tmp, 'x.gguf'),
    quiet: true,
    ...a,
  } as ExportArgs);
const meta = (path: string, key: string) =>
  readGguf(new Uint8Array(readFileSync(path))).metadata.get(key)?.value;

describe('export formats', () => {
  it('gguf-merged: the merged GGUF and a Modelfile beside it', async () => {
    const out = join(tmp, 'g1/tuned.gguf');
    await run({ adapter: adapterDir, out });
    expect(readdirSync(join(tmp, 'g1')).sort()).toEqual(['tuned.Modelfile', 'tuned.gguf']);
    expect(meta(out, 'general.architecture')).toBe('llama');
    expect(meta(out, 'general.file_type')).toBe(0);
    const mf = readFileSync(join(tmp, 'g1/tuned.Modelfile'), 'utf8');
    expect(mf).toContain('\nFROM ./tuned.gguf\n');
    expect(mf).not.toContain('ADAPTER');
    expect(mf).toContain('PARAMETER stop "<|im_end|>"');
  });

  it('gguf-merged without --adapter converts the base; --dtype f16', async () => {
    const out = join(tmp, 'g2/base.gguf');
    await run({ out, dtype: 'f16' });
    expect(meta(out, 'general.file_type')).toBe(1);
    expect(meta(out, 'general.type')).toBe('model');
  });

  it('gguf-adapter: the adapter GGUF and a Modelfile with FROM the base and ADAPTER', async () => {
    const out = join(tmp, 'g3/adapter.gguf');
    await run({ format: 'gguf-adapter', adapter: adapterDir, out });
    expect(meta(out, 'general.type')).toBe('adapter');
    expect(meta(out, 'adapter.lora.alpha')).toBeCloseTo(8 * 2); // rsLoRA: alpha·√r, r = 4
    const mf = readFileSync(join(tmp, 'g3/adapter.Modelfile'), 'utf8');
    expect(mf).toContain(`\nFROM ${modelDir}\nADAPTER ./adapter.gguf\nTEMPLATE """`);
  });

  it('merged: an HF folder our loader reads back as base + adapter merged', async () => {
    const out = join(tmp, 'm1');
    await run({ format: 'merged', adapter: adapterDir, out });
    const back = await loadModel(dirSource(out));
    const adapter = randomAdapter(model.config, { rslora: true });
    const want = mergeAdapter(model, adapter);
    for (const [name, t] of want) expect(back.weights.get(name)!.data).toEqual(t.data);
    expect(back.files.tokenizerJson).toBe(model.files.tokenizerJson);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')),
    );
  });
});

describe('export refusals (nothing written)', () => {
  it.each([
    [{ format: 'gguf-adapter' as const }, /needs --adapter/],
    [{ format: 'merged' as const, dtype: 'q8_0' }, /--dtype q8_0 is not available for --format merged/],
    [{ adapter: '/nonexistent/adapter' }, /no such folder/],
  ])('%o', async (args, pattern) => {
    const out = join(tmp, 'r1/out.gguf');
    await expect(run({ ...args, out })).rejects.toThrow(pattern);
    expect(existsSync(join(tmp, 'r1'))).toBe(false);
  });

  it('an --out under a file, or a folder given for a GGUF path', async () => {
    writeFileSync(join(tmp, 'afile'), 'x');
    await expect(run({ out: join(tmp, 'afile/model.gguf') })).rejects.toThrow(/not a folder/);
    await expect(run({ out: tmp })).rejects.toThrow(/is a folder/);
  });

  it('an existing output file unless --force; --force replaces it', async () => {
    const out = join(tmp, 'r2/model.gguf');
    mkdirSync(join(tmp, 'r2'));
    writeFileSync(out, 'old');
    await expect(run({ out })).rejects.toThrow(/already exists; use --force/);
    expect(readFileSync(out, 'utf8')).toBe('old');
    expect(existsSync(join(tmp, 'r2/model.Modelfile'))).toBe(false);
    await run({ out, force: true });
    expect(meta(out, 'general.architecture')).toBe('llama');
    // the Modelfile alone clashing also refuses
    rmSync(out);
    await expect(run({ out })).rejects.toThrow(/model\.Modelfile already exists/);
    expect(existsSync(out)).toBe(false);
  });

  it('a failure while writing leaves neither outputs nor temporary files', () => {
    const dir = join(tmp, 'r3');
    const files = [
      lazyFile('a.bin', () => new Uint8Array(10)),
      lazyFile('b.bin', () => {
        throw new Error('disk on fire');
      }),
    ];
    expect(() => writeOutputsAtomic(dir, files, [])).toThrow(/disk on fire/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the command line passes --dtype and --force through', () => {
    const out = join(tmp, 'cli/model.gguf');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'export', ...args], {
        cwd: repo,
        encoding: 'utf8',
      });
    const args = ['--model', modelDir, '--format', 'gguf-merged', '--out', out, '--dtype', 'f16', '--quiet'];
    expect(cli(...args).status).toBe(0);
    expect(meta(out, 'general.file_type')).toBe(1);
    const again = cli(...args);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists; use --force/);
    expect(cli(...args, '--force').status).toBe(0);
  });
});
