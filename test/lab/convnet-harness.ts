// Test helpers for the convnet experiments (cnn, residual, placement): synthetic trials with chosen numbers, and checks of a run's shape.
import { expect } from 'vitest';
import type { Finding, Results, Series, Trial } from '../../src/lab/results.js';
import { figuresFor } from '../../src/report/specs/index.js';
import { decorate, toSvg } from '../../src/report/render.js';
import type { Figure } from '../../src/report/figure.js';

/** A trial with the given numbers (what findings read), as the runner would record it. */
export function synth(o: {
  arm: string;
  seed: number;
  params: Trial['params'];
  metrics: Trial['metrics'];
  curves?: Record<string, Series>;
  diverged?: boolean;
}): Trial {
  return {
    id: `${o.arm}|seed=${o.seed}|${JSON.stringify(o.params)}`,
    arm: o.arm,
    seed: o.seed,
    params: o.params,
    metrics: o.metrics,
    curves: o.curves ?? {},
    diverged: o.diverged ?? false,
    divergedAt: o.diverged ? 1 : null,
    durationMs: 1,
  };
}

/** A small, seed-dependent wobble (+-`size`) so that comparisons have a spread but a clear sign. */
export function wobble(seed: number, size: number): number {
  return ((seed * 37) % 7) / 6 * 2 * size - size;
}

/** A test-accuracy curve that climbs linearly from `from` to `to` over `steps`, evaluated every `every` steps. */
export function ramp(from: number, to: number, steps: number, every: number, reachAt = steps): Series {
  const out: Series = [];
  for (let s = 0; s <= steps; s += every) out.push([s, s >= reachAt ? to : from + ((to - from) * s) / reachAt]);
  return out;
}

/** Every finding has an id, a claim, a verdict of the five, values, comparisons with finite labels, and text without NaN. */
export function expectFindings(findings: readonly Finding[], ids: readonly string[]): void {
  expect(findings.map((f) => f.id)).toEqual(ids);
  for (const f of findings) {
    expect(f.claim.length).toBeGreaterThan(0);
    expect(f.text, f.id).not.toMatch(/NaN|undefined|Infinity|null/);
    expect(['supported', 'contradicted', 'equivalent', 'mixed', 'inconclusive']).toContain(f.verdict);
    for (const c of f.comparisons ?? []) expect(c.label.length).toBeGreaterThan(0);
  }
}

/**
 * The experiment's report figures from a run's trials: every id drawn (none skipped), captions naming seeds and
 * intervals, and each spec rendering to SVG without Vega warnings.
 */
export async function expectFigures(experiment: string, trials: Trial[], ids: readonly string[]): Promise<void> {
  const results = { experiment, config: {}, trials, findings: [], meta: {} } as unknown as Results;
  const out = figuresFor({ results, trials });
  expect(out.filter((f) => f.kind === 'skipped').map((f) => `${f.id}: ${f.kind === 'skipped' ? f.reason : ''}`)).toEqual([]);
  const figs = out.filter((f): f is Figure => f.kind === 'figure');
  expect(figs.map((f) => f.id)).toEqual(ids);
  for (const f of figs) {
    expect(f.caption).toMatch(/\d+ seeds?/);
    expect(f.caption).not.toMatch(/NaN|undefined/);
    const warnings: string[] = [];
    const svg = await toSvg(decorate(f, `bnlab run ${experiment}`), warnings);
    expect(warnings).toEqual([]);
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(3);
  }
}
