// The 2-D point sets of the browser lab (as the TensorFlow Playground's): circle, xor, gaussians, spiral, moons.
import { Rng } from '../../../src/tensor/rng.js';

export type PlanarName = 'circle' | 'xor' | 'gaussians' | 'spiral' | 'moons';

/** Writes point i: (x[2i], x[2i+1]) and its label 0/1. Labels come from the clean point, before the jitter. */
type Sampler = (rng: Rng, i: number, noise: number, x: Float32Array, y: Int32Array) => void;

/** Adds N(0, noise^2) jitter to both coordinates of point i. */
function jitter(rng: Rng, noise: number, x: Float32Array, i: number, a: number, b: number): void {
  x[2 * i] = a + noise * rng.normal();
  x[2 * i + 1] = b + noise * rng.normal();
}

/**
 * Every set spans about [-1, 1]^2 (moons [-1, 1.5] x [-0.75, 0.75]) and alternates its classes, so any prefix is
 * balanced. noise = the std of Gaussian jitter added to each coordinate (gaussians: added to the blob std 0.2).
 */
const SAMPLERS: Record<PlanarName, Sampler> = {
  // A disc of radius 0.5 (class 1) inside a ring from 0.7 to 1 (class 0).
  circle: (rng, i, noise, x, y) => {
    const inner = i % 2 === 0;
    const r = inner ? 0.5 * Math.sqrt(rng.uniform()) : 0.7 + 0.3 * rng.uniform();
    const t = 2 * Math.PI * rng.uniform();
    y[i] = inner ? 1 : 0;
    jitter(rng, noise, x, i, r * Math.cos(t), r * Math.sin(t));
  },
  // Uniform in [-1, 1]^2 away from the axes (a 0.05 margin), class 1 where the signs of x and y differ.
  xor: (rng, i, noise, x, y) => {
    const c = i % 2;
    const a = 0.05 + 0.95 * rng.uniform();
    const b = 0.05 + 0.95 * rng.uniform();
    const sa = rng.uniform() < 0.5 ? -1 : 1;
    y[i] = c;
    jitter(rng, noise, x, i, sa * a, (c === 1 ? -sa : sa) * b);
  },
  // Two Gaussian blobs of std 0.2 + noise around (0.5, 0.5) (class 1) and (-0.5, -0.5) (class 0).
  gaussians: (rng, i, noise, x, y) => {
    const c = i % 2;
    const m = c === 1 ? 0.5 : -0.5;
    const s = 0.2 + noise;
    y[i] = c;
    x[2 * i] = m + s * rng.normal();
    x[2 * i + 1] = m + s * rng.normal();
  },
  // Two interleaved arms turning 1.75 times: radius r = t, angle 1.75 * 2 pi * t (+ pi for class 1).
  spiral: (rng, i, noise, x, y) => {
    const c = i % 2;
    const t = rng.uniform();
    const a = 1.75 * 2 * Math.PI * t + c * Math.PI;
    y[i] = c;
    jitter(rng, noise, x, i, t * Math.sin(a), t * Math.cos(a));
  },
  // sklearn's make_moons, shifted to centre it: (cos s, sin s) and (1 - cos s, 0.5 - sin s), s uniform in [0, pi].
  moons: (rng, i, noise, x, y) => {
    const c = i % 2;
    const s = Math.PI * rng.uniform();
    y[i] = c;
    const a = c === 0 ? Math.cos(s) : 1 - Math.cos(s);
    const b = c === 0 ? Math.sin(s) : 0.5 - Math.sin(s);
    jitter(rng, noise, x, i, a - 0.5, b - 0.25);
  },
};

export const PLANAR_NAMES = Object.keys(SAMPLERS) as PlanarName[];

/** True for the 2-D sets. */
export function isPlanar(name: string): name is PlanarName {
  return Object.hasOwn(SAMPLERS, name);
}

/** n points of a 2-D set: x (n x 2) and labels 0/1. The same (name, n, noise, seed) gives the same points. */
export function makePlanar(name: PlanarName, n: number, noise: number, seed: number): { x: Float32Array; y: Int32Array } {
  if (!Number.isInteger(n) || n < 2) throw new Error(`${name}: need an integer number of points >= 2, got ${n}`);
  if (!(noise >= 0 && Number.isFinite(noise))) throw new Error(`${name}: noise must be a finite number >= 0, got ${noise}`);
  const rng = new Rng(seed);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  const sample = SAMPLERS[name];
  for (let i = 0; i < n; i++) sample(rng, i, noise, x, y);
  return { x, y };
}
