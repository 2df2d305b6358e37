// Which trial groups (arm, grid params) the findings rest on, by dropping one trial at a time: generic, so --seeds auto needs no code per experiment.
import type { Comparison } from './compare.js';
import type { Finding, Trial } from './results.js';
import { findingKeys } from './sequential.js';

/** Trials of one group share an arm and params and differ only in seed; the key is "arm (k=v, ...)" as in summary.md. */
export function groupKey(t: Pick<Trial, 'arm' | 'params'>): string {
  const p = Object.keys(t.params)
    .sort()
    .map((k) => `${k}=${String(t.params[k])}`)
    .join(', ');
  return p ? `${t.arm} (${p})` : t.arm;
}

/** Trials dropped per group before concluding a finding does not rest on it (the newest seeds first). */
const PROBES_PER_GROUP = 3;

/** What dropping a trial a comparison rests on changes: its counts, difference or standard error. */
function signature(f: Finding | undefined): string {
  if (!f) return 'absent';
  const c = (x: Comparison) => `${x.n}/${x.nA}/${x.nB}/${x.diff}/${x.se}`;
  return `${f.verdict}|${(f.comparisons ?? []).map(c).join(';')}`;
}

/** Findings by key (see findingKeys). */
function byKey(findings: readonly Finding[]): Map<string, Finding> {
  const keys = findingKeys(findings);
  return new Map(findings.map((f, i) => [keys[i], f]));
}

/**
 * For each finding key in `wanted` (see findingKeys, no prefix), the groups whose trials it rests on. A group counts when
 * dropping one of its trials (the newest seeds first, up to PROBES_PER_GROUP) changes the finding's verdict or any of its
 * comparisons' n, difference or standard error; findings that throw without that trial count as resting on the group
 * (the safe side: seeds are added there too). Cost: at most groups x PROBES_PER_GROUP calls of `findingsOf`.
 */
export function dependencies(trials: readonly Trial[], findingsOf: (t: Trial[]) => Finding[], wanted: readonly string[]): Map<string, Set<string>> {
  const out = new Map(wanted.map((k) => [k, new Set<string>()]));
  if (wanted.length === 0) return out;
  const base = byKey(findingsOf([...trials]));
  const baseSig = new Map(wanted.map((k) => [k, signature(base.get(k))]));
  const groups = new Map<string, Trial[]>();
  for (const t of trials) {
    const g = groupKey(t);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(t);
  }
  for (const [g, ts] of groups) {
    const pending = new Set(wanted);
    for (const drop of [...ts].sort((a, b) => b.seed - a.seed).slice(0, PROBES_PER_GROUP)) {
      let probe: Map<string, Finding> | null;
      try {
        probe = byKey(findingsOf(trials.filter((t) => t !== drop)));
      } catch {
        probe = null;
      }
      for (const k of [...pending]) {
        if (probe === null || signature(probe.get(k)) !== baseSig.get(k)) {
          out.get(k)!.add(g);
          pending.delete(k);
        }
      }
      if (pending.size === 0) break;
    }
  }
  return out;
}
