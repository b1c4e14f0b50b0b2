// Argument parsing for the data tools and `evaluate` (node:util parseArgs, the same conventions as the
// other commands: numbers checked, missing flags named, bad usage exits 2 with one line).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UserError } from '../errors';
import type { BackendChoice } from './context';
import { UsageError } from './errors';
import { writeFilesAtomic } from './files';

export type Values = Record<string, string | boolean | string[] | undefined>;

export const commonFlags = {
  backend: { type: 'string', default: 'auto' },
  threads: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export function parse(args: string[], options: ParseArgsConfig['options']): Values {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function num(v: Values, key: string, integer = false): number | undefined {
  const s = v[key];
  if (s === undefined) return undefined;
  const n = Number(s);
  if (typeof s !== 'string' || s.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${key} expects ${integer ? 'an integer' : 'a number'}, got '${String(s)}'`);
  return n;
}

export function need(v: Values, key: string): string {
  const s = v[key];
  if (typeof s !== 'string' || !s) throw new UsageError(`missing --${key}`);
  return s;
}

/** --out, refused where it names one of the `inputs` flags' files: a tool never writes over what it reads. */
export function outFile(v: Values, ...inputs: string[]): string {
  const out = need(v, 'out');
  for (const flag of inputs) {
    const input = str(v, flag);
    if (input !== undefined && sameFile(input, out))
      throw new UserError(
        `--out ${out} is the --${flag} file: write to another file, so that the input stays as it is`,
      );
  }
  return out;
}

const sameFile = (a: string, b: string) => {
  if (!existsSync(a) || !existsSync(b)) return resolve(a) === resolve(b);
  const [x, y] = [statSync(a), statSync(b)];
  return x.dev === y.dev && x.ino === y.ino;
};

export const str = (v: Values, key: string): string | undefined =>
  typeof v[key] === 'string' ? (v[key] as string) : undefined;

export function backendOf(v: Values): BackendChoice {
  const b = v.backend as string;
  if (!['auto', 'cpu', 'wasm', 'webgpu'].includes(b))
    throw new UsageError(`--backend ${b}: use auto, cpu, wasm or webgpu`);
  return b as BackendChoice;
}

export function readText(file: string, flag = 'data'): string {
  if (!existsSync(file)) throw new UserError(`--${flag} ${file}: no such file`);
  return readFileSync(file, 'utf8');
}

/** Writes one output file atomically (a temporary name, then rename): never half-written. */
export function writeOut(file: string, text: string): void {
  writeFilesAtomic(dirname(file), { [basename(file)]: text });
}

/** Progress on stderr, only on a terminal and not with --quiet. */
export function progressLine(quiet: boolean): (text: string, done?: boolean) => void {
  let last = 0;
  return (text, done = false) => {
    if (quiet || !process.stderr.isTTY) return;
    const now = Date.now();
    if (!done && now - last < 200) return;
    last = now;
    process.stderr.write(`\r${text}   ${done ? '\n' : ''}`);
  };
}
