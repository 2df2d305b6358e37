// Test harness for the MLP experiments: runs a config's trials in-process and checks the shape of results and findings.
import { expect } from 'vitest';
import type { ZodTypeAny } from 'zod';
import { loadDataset } from '../../src/data/registry.js';
import type { Dataset } from '../../src/data/dataset.js';
import type { BaseConfig, Experiment, TrialContext } from '../../src/lab/experiment.js';
import type { Finding, Trial } from '../../src/lab/results.js';

let cached: Dataset | null = null;

/** mnist-10k, loaded once per test file. */
export function mnist(): Dataset {
  cached ??= loadDataset('mnist-10k');
  return cached;
}

/** A TrialContext over mnist-10k that ignores progress. */
export const ctx: TrialContext = { dataset: mnist, progress: () => {} };

/** Runs every trial of a config as the runner would (adds id, arm, seed, params, durationMs). */
export function runAll<C extends BaseConfig>(exp: Experiment<C>, config: C): Trial[] {
  return exp.trials(config).map((spec) => {
    const t0 = performance.now();
    const out = exp.runTrial(spec, config, ctx);
    return { id: spec.id, arm: spec.arm, seed: spec.seed, params: spec.params, ...out, durationMs: performance.now() - t0 };
  });
}

/** Every trial has numeric-or-null metrics including `metrics`, finite [x, y] curves, and consistent divergence fields. */
export function expectTrialShape(trials: readonly Trial[], metrics: readonly string[], curves: readonly string[]): void {
  expect(trials.length).toBeGreaterThan(0);
  for (const t of trials) {
    for (const m of metrics) {
      expect(t.metrics, `${t.id} lacks metric ${m}`).toHaveProperty(m);
      const v = t.metrics[m];
      expect(v === null || (typeof v === 'number' && Number.isFinite(v)), `${t.id}: metric ${m} = ${String(v)}`).toBe(true);
    }
    for (const c of curves) expect(t.curves, `${t.id} lacks curve ${c}`).toHaveProperty(c);
    for (const [name, series] of Object.entries(t.curves)) {
      expect(Array.isArray(series), `${t.id}: curve ${name}`).toBe(true);
      for (const p of series) {
        expect(p.length, `${t.id}: curve ${name} point ${JSON.stringify(p)}`).toBe(2);
        expect(Number.isFinite(p[0]) && Number.isFinite(p[1]), `${t.id}: curve ${name} point ${JSON.stringify(p)}`).toBe(true);
      }
    }
    expect(typeof t.diverged).toBe('boolean');
    if (t.diverged) expect(t.divergedAt).toBeGreaterThan(0);
    else expect(t.divergedAt).toBeNull();
  }
}

/** Findings have an id, a claim, a non-empty text without NaN, a verdict and values. */
export function expectFindingShape(findings: readonly Finding[]): void {
  expect(findings.length).toBeGreaterThan(0);
  const ids = new Set<string>();
  for (const f of findings) {
    expect(f.id).toMatch(/^[a-z0-9-]+$/);
    expect(ids.has(f.id), `duplicate finding id ${f.id}`).toBe(false);
    ids.add(f.id);
    expect(f.claim.length).toBeGreaterThan(0);
    expect(f.text.length).toBeGreaterThan(0);
    expect(f.text).not.toMatch(/NaN|undefined|Infinity/);
    expect(['supported', 'contradicted', 'mixed', 'inconclusive']).toContain(f.verdict);
    expect(typeof f.values).toBe('object');
  }
}

/** The finding with an id (fails the test when missing). */
export function finding(findings: readonly Finding[], id: string): Finding {
  const f = findings.find((x) => x.id === id);
  expect(f, `finding ${id}`).toBeDefined();
  return f!;
}

/** A deep copy of trials with `edit` applied to those matching `pred`. */
export function editTrials(trials: readonly Trial[], pred: (t: Trial) => boolean, edit: (t: Trial) => void): Trial[] {
  const copy = structuredClone(trials) as Trial[];
  for (const t of copy) if (pred(t)) edit(t);
  return copy;
}

/** The messages of a failed parse (for checking that they name the key and the problem). */
export function parseErrors(schema: ZodTypeAny, raw: unknown): string[] {
  const r = schema.safeParse(raw);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
