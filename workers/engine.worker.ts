// The engine worker entry: exposes the one API object (api.ts) over comlink. Vite bundles it as an ES
// module worker; the page creates it with `new Worker(new URL('…/engine.worker.ts', import.meta.url), {type:'module'})`.
import { expose } from 'comlink';
import { api } from './api';

expose(api);
