// Checks a parsed results.json enough that figure builders can trust its shape (no file system: the browser lab uses it too).
import type { Results, Trial } from '../lab/results.js';
import { ReportError } from './errors.js';

/** Structural check of a parsed results.json; fills optional parts (findings, meta fields) with defaults. */
export function checkResults(raw: unknown, file: string): Results {
  const bad = (what: string): never => {
    throw new ReportError(file, `not a bnlab results file: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('expected a JSON object');
  const r = raw as Record<string, unknown>;
  if (typeof r.experiment !== 'string' || r.experiment === '') bad('"experiment" must be a non-empty string');
  if (!Array.isArray(r.trials)) bad('"trials" must be an array');
  const trials = (r.trials as unknown[]).map((t, i) => checkTrial(t, i, bad));
  const meta = (typeof r.meta === 'object' && r.meta !== null ? r.meta : {}) as Record<string, unknown>;
  const str = (v: unknown, dflt: string): string => (typeof v === 'string' ? v : dflt);
  return {
    experiment: r.experiment as string,
    config: (typeof r.config === 'object' && r.config !== null ? r.config : {}) as Record<string, unknown>,
    trials,
    findings: Array.isArray(r.findings)
      ? (r.findings as Results['findings']).filter((f) => typeof f === 'object' && f !== null && typeof f.text === 'string')
      : [],
    // How the p-values were corrected (and the --seeds auto looks): kept so the report states it, absent in older results.
    ...(isMultiplicity(r.multiplicity) ? { multiplicity: r.multiplicity } : {}),
    meta: {
      version: str(meta.version, '?'),
      backend: str(meta.backend, '?'),
      node: str(meta.node, '?'),
      startedAt: str(meta.startedAt, ''),
      finishedAt: str(meta.finishedAt, ''),
      command: str(meta.command, ''),
      dataset: str(meta.dataset, str((r.config as Record<string, unknown> | undefined)?.dataset, '?')),
    },
  };
}

function isMultiplicity(m: unknown): m is NonNullable<Results['multiplicity']> {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  return typeof o.method === 'string' && typeof o.tests === 'number' && typeof o.comparisons === 'number'
    && (o.family === 'run' || o.family === 'study');
}

/** Checks one trial; curves with non-array points are dropped, JSON nulls (NaN written out) kept as NaN. */
function checkTrial(t: unknown, i: number, bad: (what: string) => never): Trial {
  if (typeof t !== 'object' || t === null) bad(`trials[${i}] must be an object`);
  const o = t as Record<string, unknown>;
  if (typeof o.arm !== 'string') bad(`trials[${i}].arm must be a string`);
  const curves: Trial['curves'] = {};
  if (typeof o.curves === 'object' && o.curves !== null) {
    for (const [name, pts] of Object.entries(o.curves as Record<string, unknown>)) {
      if (!Array.isArray(pts)) continue;
      curves[name] = pts
        .filter((p): p is unknown[] => Array.isArray(p) && p.length >= 2)
        .map((p) => [num(p[0]), num(p[1])] as [number, number]);
    }
  }
  const metrics: Trial['metrics'] = {};
  if (typeof o.metrics === 'object' && o.metrics !== null) {
    for (const [k, v] of Object.entries(o.metrics as Record<string, unknown>)) metrics[k] = typeof v === 'number' ? v : null;
  }
  const seed = typeof o.seed === 'number' ? o.seed : 0;
  return {
    id: typeof o.id === 'string' ? o.id : `${o.arm as string}|seed=${seed}`,
    arm: o.arm as string,
    seed,
    params: (typeof o.params === 'object' && o.params !== null ? o.params : {}) as Trial['params'],
    metrics,
    curves,
    diverged: o.diverged === true,
    divergedAt: typeof o.divergedAt === 'number' ? o.divergedAt : null,
    durationMs: typeof o.durationMs === 'number' ? o.durationMs : 0,
  };
}

/** JSON has no NaN/Infinity: writers emit null; treat anything non-numeric as NaN so stats skip it. */
function num(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}
