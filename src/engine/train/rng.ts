// The engine's seeded random numbers, re-exported where training code has always imported them.
export { Rng } from '../rng';
