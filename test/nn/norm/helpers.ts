// Shared helpers of the normalization tests: fixture loading and closeness checks that name the worst element.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Tensor } from '../../../src/tensor/tensor.js';

export interface Enc {
  shape: number[];
  data: number[];
}

/** Reads test/fixtures/<name>. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** A tensor from a fixture entry (float32, as PyTorch had it). */
export function fromEnc(e: Enc, requiresGrad = false): Tensor {
  return new Tensor(Float32Array.from(e.data), e.shape, requiresGrad);
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise; the message names the worst element.
 * Returns the worst ratio err / (atol + rtol |expected|).
 */
export function expectClose(actual: ArrayLike<number> | null | undefined, expected: ArrayLike<number>, label: string, tol: { rtol?: number;
  atol?: number } = {}): number {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  expect(actual, `${label}: missing`).toBeTruthy();
  const a = actual!;
  expect(a.length, `${label}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const r = Math.abs(a[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (!(r <= worst)) {
      worst = r;
      at = i;
    }
  }
  if (!(worst <= 1)) expect.fail(`${label}: element ${at} is ${a[at]}, expected ${expected[at]} (${worst.toFixed(1)}x the tolerance)`);
  return worst;
}

/** Per-channel mean and biased variance of a (N, C, ...) tensor, in float64. */
export function channelMoments(t: Tensor): { mean: number[]; variance: number[] } {
  const N = t.shape[0];
  const C = t.shape[1];
  const S = t.size / (N * C);
  const mean: number[] = [];
  const variance: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) s += t.data[(n * C + c) * S + i];
    const mu = s / (N * S);
    let q = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) q += (t.data[(n * C + c) * S + i] - mu) ** 2;
    mean.push(mu);
    variance.push(q / (N * S));
  }
  return { mean, variance };
}
