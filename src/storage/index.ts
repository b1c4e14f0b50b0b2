// Storage entry point for the page and the worker: re-exports the typed stores over one database.
export * from './db';
export * from './datasets';
export * from './runs';
export * from './adapters';
export * from './modelCache';
export * from './settings';
export * from './quota';
export * from './backup';
