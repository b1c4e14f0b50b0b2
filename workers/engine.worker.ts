// The engine worker entry: exposes the one API object (api.ts) over comlink. Vite bundles it as an ES
// module worker; the page creates it with `new Worker(new URL('…/engine.worker.ts', import.meta.url), {type:'module'})`.
// Fault tests reach the GPU reset hook from the worker's scope (`self.__loraStudio.loseDevice()`).
import { expose } from 'comlink';
import { api } from './api';

expose(api);
(self as unknown as { __loraStudio: object }).__loraStudio = { loseDevice: () => api.__testLoseDevice() };
