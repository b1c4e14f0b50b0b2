// Ports, token, repo ids and the browser's command line shared by playwright.config.ts and the specs.
export const APP_PORT = 4173;
export const HUB_PORT = 4174;
export const HUB_URL = `http://127.0.0.1:${HUB_PORT}`;
export const HUB_TOKEN = 'hf_e2e_token';
/** Tiny Llama-architecture model (no tokenizer) served by the mock Hub. */
export const TINY_REPO = 'e2e/tiny-llama';
/** Tiny Qwen3 model behind a gate: needs HUB_TOKEN. */
export const GATED_REPO = 'e2e/gated-qwen3';
/** Debian's Chromium, headless, with no sandbox (containers) and nothing that reaches the network. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
/** SwiftShader WebGPU: without this flag headless Chromium grants no WebGPU adapter. */
export const WEBGPU_ARG = '--enable-unsafe-webgpu';
