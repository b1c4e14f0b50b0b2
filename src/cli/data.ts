// `data dedupe|score|generate|stats|template` (DESIGN §9): the instruction-data tools on files. Each
// writes its output atomically (nothing half-written on an error or a cancel) and ends stdout with one
// JSON line: dedupe {"kept","removed"}, score {"rows","scored"}, generate {"kept","attempts","rejected"},
// stats the whole report, template {"rows","skipped"}.
import { readAdapter } from '../engine/io/peft';
import { dirSource } from '../engine/io/source_node';
import { DeviceModel } from '../engine/model/device';
import { Generator } from '../engine/generate/generator';
import { stopIds } from '../engine/generate/stops';
import { countTrained, encodeChatPrompt, encodeRow, type EncodeContext } from '../engine/text/encode';
import { defaultTemplateKwargs, pickChatTemplate } from '../engine/text/template';
import { createDecodeStream } from '../engine/text/tokenizer';
import { ifdScore, RowScorer } from '../engine/eval/score';
import { defaultTrainConfig } from '../engine/train/config';
import { UserError } from '../errors';
import { issuesError } from '../data/formats';
import { dedupe, DEFAULT_ROUGE_THRESHOLD } from '../data/dedupe';
import { readRecords, writeRecords, type DataRecord } from '../data/records';
import { normalizeRow, type Row } from '../data/rows';
import { seedInstructions, selfInstruct, type SelfInstructModel } from '../data/selfinstruct';
import { datasetStats, type RowTokens } from '../data/stats';
import { applyTemplates } from '../data/template';
import { modelTokenizer, openModelReader, openRuntime, type ModelMeta } from './context';
import { UsageError } from './errors';
import {
  backendOf,
  commonFlags,
  need,
  outFile,
  num,
  parse,
  progressLine,
  readText,
  str,
  writeOut,
  type Values,
} from './data-args';

const fileName = (p: string) => p.split('/').pop() ?? p;
const print = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

/** Records of a file, and each as a normalised row (a row that is no dataset row is an error naming it). */
function readRows(file: string, model?: ModelMeta): { records: DataRecord[]; rows: Row[] } {
  const f = readRecords(readText(file), fileName(file));
  const csv = f.container === 'csv' || f.container === 'tsv';
  const rows: Row[] = [];
  const issues: { where: string; message: string }[] = [];
  f.records.forEach((r, i) => {
    const n = normalizeRow(r, { csv, vocabSize: model?.config.vocab_size });
    if (n.ok) rows.push({ ...n.row, line: i, where: f.where[i] } as Row);
    else issues.push({ where: f.where[i], message: n.message });
  });
  if (issues.length) throw issuesError(issues);
  return { records: f.records, rows };
}

function encodeContext(model: ModelMeta, maxLen: number): EncodeContext {
  const tokenizer = modelTokenizer(model);
  if (!tokenizer) throw new UserError('the model has no tokenizer.json: this command needs one');
  return {
    tokenizer,
    template: pickChatTemplate(model.files.tokenizerConfig, model.files.chatTemplate),
    templateKwargs: defaultTemplateKwargs(model.config.model_type),
    maxLen,
    trainOnPrompt: false,
  };
}

async function dedupeCmd(v: Values) {
  const data = need(v, 'data');
  const out = outFile(v, 'data');
  const threshold = num(v, 'threshold') ?? DEFAULT_ROUGE_THRESHOLD;
  if (!(threshold > 0 && threshold <= 1)) throw new UserError('--threshold must be in (0, 1]');
  const f = readRecords(readText(data), fileName(data));
  const r = dedupe(f.records, threshold);
  writeOut(
    out,
    writeRecords(
      r.kept.map((i) => f.records[i]),
      out,
    ),
  );
  if (!v.quiet)
    for (const x of r.removed.slice(0, 20))
      process.stderr.write(
        `removed ${f.where[x.index]} (${x.reason === 'exact' ? 'exact copy' : `ROUGE-L ${x.rougeL.toFixed(2)}`} of ${f.where[x.of]})\n`,
      );
  print({ kept: r.kept.length, removed: r.removed.length });
}

async function scoreCmd(v: Values) {
  const data = need(v, 'data');
  const out = outFile(v, 'data');
  const model = await openModelReader(need(v, 'model'), !!v.quiet);
  const adapterDir = str(v, 'adapter');
  const adapter = adapterDir ? await readAdapter(dirSource(adapterDir), model.config) : undefined;
  const ctx = encodeContext(model, num(v, 'max-len', true) ?? defaultTrainConfig.maxLen);
  const { records, rows } = readRows(data, model);
  const examples = rows.map((r) => encodeRow(r, ctx));
  const runtime = await openRuntime(backendOf(v), num(v, 'threads', true));
  const scorer = await RowScorer.create({
    runtime,
    model,
    adapter,
    maxLen: Math.max(2, ...examples.map((e) => e.input_ids.length)),
  });
  const show = progressLine(!!v.quiet);
  const scored: DataRecord[] = [];
  try {
    for (let i = 0; i < examples.length; i++) {
      show(`scoring row ${i + 1} / ${examples.length}`);
      const { ifd } = await ifdScore(scorer, examples[i]);
      scored.push({ ...records[i], ifd });
    }
  } finally {
    await scorer.dispose();
    await runtime.release();
  }
  show(`scored ${examples.length} rows`, true);
  writeOut(out, writeRecords(scored, out));
  print({ rows: scored.length, scored: scored.filter((r) => r.ifd !== null).length });
}

async function statsCmd(v: Values) {
  const data = need(v, 'data');
  const f = readRecords(readText(data), fileName(data));
  let tokens: (RowTokens | undefined)[] | undefined;
  const spec = str(v, 'model');
  if (spec) {
    const model = await openModelReader(spec, !!v.quiet);
    const ctx = encodeContext(model, num(v, 'max-len', true) ?? defaultTrainConfig.maxLen);
    const csv = f.container === 'csv' || f.container === 'tsv';
    tokens = f.records.map((r) => {
      const n = normalizeRow(r, { csv, vocabSize: model.config.vocab_size });
      if (!n.ok) return undefined;
      const e = encodeRow({ ...n.row, line: 0, where: '' } as Row, ctx);
      return { tokens: e.input_ids.length, trained: countTrained(e.labels) };
    });
  }
  print(datasetStats(f.records, tokens));
}

async function templateCmd(v: Values) {
  const data = need(v, 'data');
  const out = outFile(v, 'data');
  const instructions = (v.instruction as string[] | undefined) ?? [];
  if (instructions.length === 0) throw new UserError('give at least one --instruction TEMPLATE');
  const f = readRecords(readText(data), fileName(data));
  const r = applyTemplates(f.records, f.columns, {
    instructions,
    input: str(v, 'input'),
    output: need(v, 'output'),
    seed: num(v, 'seed', true) ?? 0,
  });
  if (r.rows.length === 0) throw new UserError(`no row came out: every row's output was empty (${data})`);
  writeOut(out, writeRecords(r.rows, out));
  print({ rows: r.rows.length, skipped: r.skipped.length });
}

async function generateCmd(v: Values) {
  const out = outFile(v, 'seed-tasks');
  const n = num(v, 'n', true);
  if (n === undefined) throw new UserError('missing --n (how many rows to generate)');
  const seedFile = need(v, 'seed-tasks');
  const seeds = seedInstructions(readRecords(readText(seedFile, 'seed-tasks'), fileName(seedFile)).records);
  const model = await openModelReader(need(v, 'model'), !!v.quiet);
  const adapterDir = str(v, 'adapter');
  const adapter = adapterDir ? await readAdapter(dirSource(adapterDir), model.config) : undefined;
  const ctx = encodeContext(model, defaultTrainConfig.maxLen);
  const temperature = num(v, 'temperature') ?? 0.7;
  const runtime = await openRuntime(backendOf(v), num(v, 'threads', true));
  const device = await DeviceModel.upload(runtime, model);
  const gen = new Generator(device);
  if (adapter) await gen.setAdapter({ ...adapter.meta, weights: adapter.weights });
  const stops = stopIds(model, ctx.tokenizer, ctx.template);
  const run = async (ids: number[], seed: number, maxNewTokens: number, until?: RegExp) => {
    const stream = createDecodeStream(ctx.tokenizer, { contextIds: ids });
    let text = '';
    await gen.generate([ids], {
      maxNewTokens,
      sampling: { temperature, topP: 1, topK: 0, repetitionPenalty: 1 },
      seed,
      stopIds: stops,
      onToken: (_, id) => {
        text += stream.push(id);
        return !(until && until.test(text));
      },
    });
    return text + stream.flush();
  };
  const lm: SelfInstructModel = {
    complete: (prompt, seed) => run(ctx.tokenizer.encode(prompt), seed, 48, /\n\s*\n|\nTask \d/),
    answer: (row, seed) =>
      run(
        encodeChatPrompt(
          [{ role: 'user', content: row.input ? `${row.instruction}\n\n${row.input}` : row.instruction }],
          ctx,
        ),
        seed,
        128,
      ),
  };
  const signal = { aborted: false };
  const onInt = () => {
    signal.aborted = true;
    process.stderr.write('\ncancelling: finishing the current attempt, keeping the rows kept so far\n');
  };
  process.once('SIGINT', onInt);
  const show = progressLine(!!v.quiet);
  try {
    const r = await selfInstruct(lm, seeds, {
      n,
      seed: num(v, 'seed', true) ?? 0,
      maxAttempts: num(v, 'max-attempts', true),
      signal,
      onProgress: (p) => show(`kept ${p.kept} / ${p.n} after ${p.attempts} attempts`),
    });
    show(`kept ${r.rows.length} / ${n} after ${r.attempts} attempts`, true);
    writeOut(out, writeRecords(r.rows as unknown as DataRecord[], out));
    print({
      kept: r.rows.length,
      attempts: r.attempts,
      rejected: r.rejected,
      ...(r.cancelled ? { cancelled: true } : {}),
    });
  } finally {
    process.removeListener('SIGINT', onInt);
    await gen.dispose();
    await device.dispose();
    await runtime.release();
  }
}

const modelFlags = {
  model: { type: 'string' },
  adapter: { type: 'string' },
  'max-len': { type: 'string' },
} as const;

export const dataCommands = {
  dedupe: {
    run: dedupeCmd,
    flags: { data: { type: 'string' }, out: { type: 'string' }, threshold: { type: 'string' } },
  },
  score: { run: scoreCmd, flags: { ...modelFlags, data: { type: 'string' }, out: { type: 'string' } } },
  stats: { run: statsCmd, flags: { ...modelFlags, data: { type: 'string' } } },
  template: {
    run: templateCmd,
    flags: {
      data: { type: 'string' },
      out: { type: 'string' },
      instruction: { type: 'string', multiple: true },
      input: { type: 'string' },
      output: { type: 'string' },
      seed: { type: 'string' },
    },
  },
  generate: {
    run: generateCmd,
    flags: {
      ...modelFlags,
      'seed-tasks': { type: 'string' },
      n: { type: 'string' },
      out: { type: 'string' },
      temperature: { type: 'string' },
      seed: { type: 'string' },
      'max-attempts': { type: 'string' },
    },
  },
} as const;

export const DATA_USAGE = `  data dedupe  --data FILE --out FILE [--threshold 0.7]
  data score   --model DIR|HUB_ID [--adapter DIR] --data FILE --out FILE   (adds "ifd" to each row)
  data generate --model DIR|HUB_ID [--adapter DIR] --seed-tasks FILE --n N --out FILE
               [--temperature 0.7 --seed 0 --max-attempts 5N]   (Self-Instruct; Ctrl-C keeps what was kept)
  data stats   --data FILE [--model DIR|HUB_ID]
  data template --data FILE --instruction TEMPLATE… [--input TEMPLATE] --output TEMPLATE --out FILE [--seed 0]
               ({column} slots; several --instruction phrasings are chosen per row with the seed)
`;

/** `data SUBCOMMAND …`. */
export async function dataMain(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const cmd = dataCommands[sub as keyof typeof dataCommands];
  if (!cmd)
    throw new UsageError(
      `data: unknown or missing subcommand '${sub ?? ''}' (dedupe, score, generate, stats, template)`,
    );
  await cmd.run(parse(rest, { ...commonFlags, ...cmd.flags }));
}
