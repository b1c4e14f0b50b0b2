// How the CLI ends on an error: a UserError is one clear line on stderr; anything else is reported as an
// internal error, with its stack only under --verbose. Exit code 1 either way (2 for bad usage).
import { isUserError } from '../engine/errors';
import { GraphError } from '../engine/graph/ir';

export class UsageError extends Error {}

/** The flag that sets a training setting (`gradAccum` → `--grad-accum`), for resolveTrainConfig's errors. */
export const flagOf = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function reportError(e: unknown, verbose: boolean): number {
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message}\nRun 'npm run cli -- help' for usage.\n`);
    return 2;
  }
  if (isUserError(e)) {
    process.stderr.write(`error: ${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(e.stack + '\n');
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const kind = err instanceof GraphError ? 'graph error' : 'internal error';
  process.stderr.write(`error: ${kind}: ${err.message.split('\n')[0]}\n`);
  if (verbose) process.stderr.write((err.stack ?? '') + '\n');
  else process.stderr.write('(run with --verbose for details)\n');
  return 1;
}
