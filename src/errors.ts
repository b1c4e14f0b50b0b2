// Errors a user can act on. The CLI prints `message` alone (no stack) and exits non-zero; the studio shows
// it in the UI. Everything else is a bug and keeps its stack.

export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    /** Where the problem is, e.g. "data.jsonl:17" or "config.json". */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;
