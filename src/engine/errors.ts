// User-facing errors, re-exported for engine code; they live in src/errors.ts, below both the engine and
// src/data, so that the data layer never imports the engine.
export { UserError, isUserError } from '../errors';
