// Seeded, serialisable random numbers (sfc32): LoRA init, shuffling, validation split. The state is four
// uint32 words so checkpoints can store and restore it exactly.

export class Rng {
  private s: Uint32Array;

  constructor(seed: number | readonly number[]) {
    if (typeof seed === 'number') {
      this.s = Uint32Array.from([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0]);
      for (let i = 0; i < 16; i++) this.nextU32(); // mix the seed in
    } else {
      this.s = Uint32Array.from(seed);
    }
  }

  get state(): number[] {
    return Array.from(this.s);
  }

  nextU32(): number {
    const s = this.s;
    const t = (((s[0] + s[1]) >>> 0) + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
    s[2] = (s[2] + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}
