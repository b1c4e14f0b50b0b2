// Ports, token and repo ids shared by playwright.config.ts and the specs.
export const APP_PORT = 4173;
export const HUB_PORT = 4174;
export const HUB_URL = `http://127.0.0.1:${HUB_PORT}`;
export const HUB_TOKEN = 'hf_e2e_token';
/** Tiny Llama-architecture model (no tokenizer) served by the mock Hub. */
export const TINY_REPO = 'e2e/tiny-llama';
/** Tiny Qwen3 model behind a gate: needs HUB_TOKEN. */
export const GATED_REPO = 'e2e/gated-qwen3';
