// Many findings, one error budget: Holm and Benjamini-Hochberg adjusted p-values, and their application to a run's or a study's findings.
import { ALPHA, outcomeOf, seedsToResolve, type Comparison } from './compare.js';
import type { Finding, Multiplicity, SequentialInfo, Verdict } from './results.js';

/**
 * Holm's step-down adjustment (family-wise error rate): with p sorted ascending, p_adj(i) = max_{j<=i} min(1, (m - j + 1) p(j)).
 * Kept for readers who want the stricter guarantee; the lab's verdicts use Benjamini-Hochberg (see adjustFindings).
 */
export function holm(p: readonly number[]): number[] {
  const m = p.length;
  const order = p.map((_, i) => i).sort((i, j) => p[i] - p[j]);
  const out = new Array<number>(m);
  let run = 0;
  order.forEach((idx, k) => {
    run = Math.max(run, Math.min(1, (m - k) * p[idx]));
    out[idx] = run;
  });
  return out;
}

/**
 * Benjamini-Hochberg step-up adjustment (false discovery rate): with p sorted ascending, p_adj(i) = min_{j>=i} min(1, m p(j) / j).
 */
export function benjaminiHochberg(p: readonly number[]): number[] {
  const m = p.length;
  const order = p.map((_, i) => i).sort((i, j) => p[i] - p[j]);
  const out = new Array<number>(m);
  let run = 1;
  for (let k = m - 1; k >= 0; k--) {
    const idx = order[k];
    run = Math.min(run, Math.min(1, (m * p[idx]) / (k + 1)));
    out[idx] = run;
  }
  return out;
}

/** One p-value of the family and where it goes back to. */
interface Slot {
  c: Comparison;
  kind: 'p' | 'pEquiv';
  p: number;
}

function slotsOf(findings: readonly Finding[]): Slot[] {
  const slots: Slot[] = [];
  for (const f of findings) {
    for (const c of f.comparisons ?? []) {
      if (Number.isFinite(c.p)) slots.push({ c, kind: 'p', p: c.p });
      if (c.pEquiv !== null && Number.isFinite(c.pEquiv)) slots.push({ c, kind: 'pEquiv', p: c.pEquiv });
    }
  }
  return slots;
}

/** "p = 0.012" / "p < 0.001" for texts. */
export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return 'p n/a';
  return p < 0.001 ? 'p < 0.001' : `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

/** " at level 0.0125 (look 1 of 3)" when a look of --seeds auto tests below ALPHA, else "". */
function levelNote(m: Pick<Multiplicity, 'alpha' | 'sequential'>): string {
  const s = m.sequential;
  if (!s || m.alpha === undefined) return '';
  return ` at level ${fmt3(m.alpha)} (look ${s.look + 1} of ${s.looks.length})`;
}

/** The finding's verdict after correction: a verdict that rested on a comparison the correction no longer resolves becomes inconclusive. */
function restate(f: Finding, tests: number, level: string): Finding {
  const verdict = f.verdictRaw ?? f.verdict;
  const lost = (f.comparisons ?? []).find((c) => c.decides !== false && c.outcome !== 'unresolved' && c.outcomeAdj === 'unresolved');
  const text = f.text.replace(/ Inconclusive after correction for \d+ tests.*\.$/, '');
  if (verdict === 'inconclusive' || !lost) return { ...f, verdict, text, verdictRaw: undefined };
  const p = lost.outcome === 'equivalent' ? lost.pEquivAdj : lost.pAdj;
  const need = lost.seedsNeeded !== null ? `; about ${lost.seedsNeeded} seeds would resolve it` : '';
  const note = ` Inconclusive after correction for ${tests} tests${level} (adjusted ${fmtP(p)} for ${lost.label}${need}).`;
  return { ...f, verdict: 'inconclusive' as Verdict, text: text + note, verdictRaw: verdict };
}

/**
 * Seeds that would resolve a comparison the corrected test leaves unresolved. The corrected test passes when the raw p
 * falls below alpha * p / pAdj (for BH: alpha * rank / m), so the raw-p sample size is taken at that level; "roughly",
 * since the rank moves as p does. Null for a resolved comparison or one without a kept spread (older results).
 */
function seedsAfterCorrection(c: Comparison, alpha: number): number | null {
  if (c.outcomeAdj !== 'unresolved') return null;
  if (c.sd === undefined) return c.seedsNeeded;
  const equiv = c.margin !== null && Math.abs(c.diff) < c.margin;
  const [p, pAdj] = equiv ? [c.pEquiv ?? NaN, c.pEquivAdj ?? NaN] : [c.p, c.pAdj ?? c.p];
  const level = pAdj > 0 && Number.isFinite(p) ? alpha * Math.min(1, p / pAdj) : alpha;
  return seedsToResolve(c, c.sd, level);
}

/**
 * Adjusts every p-value of the findings' comparisons as one family and restates the verdicts (findings are returned
 * anew; comparisons are updated in place). Benjamini-Hochberg rather than Holm: a report is a list of ~40 verdicts read
 * as discoveries, and BH bounds the expected share of wrong ones among those stated at 5%, while Holm would bound the
 * chance of any wrong one, at the price of demanding p < 0.05/40 of the strongest finding, which 3 seeds almost never
 * give. BH holds for independent tests and for positively dependent ones (PRDS), the case of findings computed from
 * shared trials. Idempotent: applying it again (a study re-correcting its runs jointly) starts from the raw verdicts.
 */
export function adjustFindings(
  findings: readonly Finding[],
  family: Multiplicity['family'] = 'run',
  level: { alpha?: number; sequential?: SequentialInfo } = {},
): { findings: Finding[]; multiplicity: Multiplicity } {
  const alpha = level.alpha ?? ALPHA;
  const slots = slotsOf(findings);
  const adj = benjaminiHochberg(slots.map((s) => s.p));
  slots.forEach((s, i) => {
    if (s.kind === 'p') s.c.pAdj = adj[i];
    else s.c.pEquivAdj = adj[i];
  });
  for (const f of findings) {
    for (const c of f.comparisons ?? []) {
      c.outcomeAdj = Number.isFinite(c.p) ? outcomeOf(c.diff, c.pAdj ?? c.p, c.pEquivAdj ?? null, alpha) : 'unresolved';
      if (Number.isFinite(c.p)) c.seedsNeeded = seedsAfterCorrection(c, alpha);
    }
  }
  const comparisons = findings.reduce((a, f) => a + (f.comparisons ?? []).filter((c) => Number.isFinite(c.p)).length, 0);
  const multiplicity: Multiplicity = {
    method: 'benjamini-hochberg',
    tests: slots.length,
    comparisons,
    family,
    ...(level.sequential ? { alpha, sequential: level.sequential } : {}),
  };
  return { findings: findings.map((f) => restate(f, slots.length, levelNote(multiplicity))), multiplicity };
}

/** Seeds behind a finding: as recorded by --seeds auto, else the most values any of its comparisons had per arm (null without comparisons). */
export function seedsUsed(f: Finding): number | null {
  if (f.seedsUsed !== undefined) return f.seedsUsed;
  const ns = (f.comparisons ?? []).map((c) => Math.max(c.nA, c.nB)).filter((n) => Number.isFinite(n));
  return ns.length ? Math.max(...ns) : null;
}

/** The headline comparison's adjusted p-value for a verdict: the equivalence test's when equivalent, else the difference's. */
export function headlineP(f: Finding): number | null {
  const c = f.comparisons?.[0];
  if (!c) return null;
  const equiv = (f.verdictRaw ?? f.verdict) === 'equivalent' || c.outcome === 'equivalent';
  const p = equiv ? (c.pEquivAdj ?? c.pEquiv) : (c.pAdj ?? c.p);
  return p ?? null;
}

/** A number with 3 significant digits (exponent form outside 1e-3..1e5), "n/a" when not finite. */
export function fmt3(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

/** "+0.0123 [-0.004, 0.029]": the difference a - b and its 95% CI. */
export function fmtDiff(c: Comparison): string {
  return `${c.diff >= 0 ? '+' : ''}${fmt3(c.diff)} [${fmt3(c.lo)}, ${fmt3(c.hi)}]`;
}

/** One line for a terminal: difference, CI, adjusted p (and the seeds that would resolve it when unresolved). */
export function comparisonLine(c: Comparison): string {
  const adj = c.outcome === 'equivalent' || c.outcomeAdj === 'equivalent'
    ? `equivalence ${fmtP(c.pEquivAdj ?? c.pEquiv)} adjusted`
    : `${fmtP(c.pAdj ?? c.p)} adjusted`;
  const need = (c.outcomeAdj ?? c.outcome) === 'unresolved' && c.seedsNeeded !== null ? `; ~${c.seedsNeeded} seeds would resolve it` : '';
  return `${c.label}: ${fmtDiff(c)} (${c.method}, n = ${c.n}; ${adj}${need})`;
}

/** "6" / "12 (look 3)" / "12 (unresolved at the cap)": the seeds a finding used, with the look that decided it under --seeds auto. */
function usedText(f: Finding): string {
  const n = seedsUsed(f);
  if (n === null) return '';
  if (f.look === undefined) return String(n);
  return f.verdict === 'inconclusive' ? `${n} (unresolved after look ${f.look + 1})` : `${n} (look ${f.look + 1})`;
}

/** The findings table of a run: one row per comparison (header and formatted cells, for HTML and Markdown). */
export function findingsTable(findings: readonly Finding[]): { header: string[]; rows: string[][] } {
  const header = [
    'finding', 'comparison (a - b)', 'test', 'n', 'difference [95% CI]', 'effect size',
    'p', 'adjusted p', 'outcome', 'verdict', 'seeds used', 'seeds to resolve',
  ];
  const rows: string[][] = [];
  for (const f of findings) {
    for (const c of f.comparisons ?? []) {
      const bare = (p: number | null | undefined) => fmtP(p).replace('p = ', '').replace('p ', '');
      const equiv = c.pEquiv !== null ? `; equivalence within ±${fmt3(c.margin ?? NaN)}: ${bare(c.pEquivAdj ?? c.pEquiv)}` : '';
      rows.push([
        f.id, c.label, c.method === 'paired' ? 'paired t' : 'Welch t', String(c.n), fmtDiff(c),
        `${c.method === 'paired' ? 'd_z' : 'd'} ${fmt3(c.effect)}`,
        bare(c.p), `${bare(c.pAdj)}${equiv}`,
        c.outcomeAdj ?? c.outcome, f.verdict, usedText(f), c.seedsNeeded === null ? '' : String(c.seedsNeeded),
      ]);
    }
  }
  return { header, rows };
}

/** "12 comparisons (14 tests), p-values adjusted by Benjamini-Hochberg across the study" (and the look rule under --seeds auto). */
export function multiplicityText(m: Multiplicity | undefined): string {
  if (!m) return 'p-values not adjusted (results written before corrections)';
  const base =
    `${m.comparisons} comparison${m.comparisons === 1 ? '' : 's'} (${m.tests} tests), ` +
    `p-values adjusted by Benjamini-Hochberg (false discovery rate 5%) across the ${m.family}`;
  return m.sequential ? `${base}; ${sequentialText(m.sequential)}` : base;
}

/**
 * The --seeds auto rule in words, for the report and summary.md: the looks, each look's share of the 5% budget, and why.
 */
export function sequentialText(s: SequentialInfo): string {
  const looks = s.looks.map((l) => `${l.seeds} (level ${fmt3(l.alpha)})`).join(', ');
  const taken = s.look + 1 < s.looks.length ? `; stopped after look ${s.look + 1} of ${s.looks.length}` : '';
  return (
    `seeds added automatically (--seeds auto, at most ${s.maxSeeds} per arm) to the trials of unresolved findings only, ` +
    `at looks of ${looks} seeds${taken}. ` +
    'Adding seeds until a test passes would inflate false positives, so the 5% budget is split over the looks in proportion to the seeds ' +
    'each adds (Bonferroni over looks: the chance of a false verdict at any look is at most the sum of the shares, 5%); at each look the ' +
    'Benjamini-Hochberg adjusted p-values are compared with that look\'s level, and a finding keeps the verdict of the first look that resolves it'
  );
}
