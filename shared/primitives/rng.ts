// Small, fast, seedable PRNG (sfc32) so a run is reproducible for a given seed and worker count.
// Math.random cannot be seeded, and the hot loop must not allocate.
import { detCos, detLog, detSin } from "./det-math";

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(...seeds: number[]) {
    // Mix every seed part into the state (splitmix32-style), then warm up.
    let h = 0x9e3779b9;
    this.a = this.b = this.c = this.d = 0;
    for (const s of seeds) {
      h = Math.imul(h ^ (s | 0), 0x85ebca6b) ^ (h >>> 13);
      h = Math.imul(h ^ (h >>> 16), 0xc2b2ae35);
      this.a ^= h;
      this.b = (this.b + Math.imul(h, 0x27d4eb2d)) | 0;
      this.c ^= h >>> 7;
      this.d = (this.d + (h | 1)) | 0;
    }
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * detLog(u));
    this.spare = r * detSin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * detCos(2 * Math.PI * v);
  }
}
