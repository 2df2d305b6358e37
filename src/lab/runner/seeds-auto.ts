// --seeds auto in the runner: after the configured seeds, seeds go look by look, through the journal, to the groups unresolved findings rest on.
import type { BaseConfig, Experiment, TrialSpec } from '../experiment.js';
import type { Finding, Multiplicity, Trial } from '../results.js';
import { dependencies, groupKey } from '../dependencies.js';
import { decideLook, findingKeys, lookSchedule, type Look } from '../sequential.js';
import { ConfigError, RunError, positiveIntFlag, validateConfig } from './config.js';

/** `--seeds auto --max-seeds N`: the most seeds per arm a trial group may reach. */
export interface SeedsAuto {
  maxSeeds: number;
}

/**
 * Reads `--seeds` and `--max-seeds` as given on the command line: `--seeds N` (a positive integer), or `--seeds auto` with
 * `--max-seeds N`; anything else is one clear ConfigError. Returns the fixed seed count or the auto settings (or neither).
 */
export function seedsFlags(seeds: string | undefined, maxSeeds: string | undefined): { seeds?: number; auto?: SeedsAuto } {
  if (seeds === 'auto') {
    if (maxSeeds === undefined) {
      throw new ConfigError('--seeds auto needs --max-seeds N: the most seeds per arm it may add up to (e.g. --seeds auto --max-seeds 12)');
    }
    return { auto: { maxSeeds: positiveIntFlag('--max-seeds', maxSeeds)! } };
  }
  if (maxSeeds !== undefined) throw new ConfigError(`--max-seeds ${maxSeeds} only applies with --seeds auto (got --seeds ${seeds ?? 'not given'})`);
  return { seeds: seeds === undefined ? undefined : positiveIntFlag('--seeds', seeds) };
}

/** Refuses a maxSeeds below an experiment's configured seeds (the first look) or beyond what its schema allows. */
export function checkSeedsAuto(exp: Experiment<BaseConfig>, config: BaseConfig, auto: SeedsAuto, where?: string): void {
  const at = where ? `${where}: ` : '';
  if (!Number.isInteger(auto.maxSeeds) || auto.maxSeeds < 1) {
    throw new ConfigError(`${at}--max-seeds expects a positive integer, got '${String(auto.maxSeeds)}'`);
  }
  if (auto.maxSeeds < config.seeds) {
    throw new ConfigError(
      `${at}${exp.name}: --max-seeds ${auto.maxSeeds} is below the configured seeds (${config.seeds}); ` +
        '--seeds auto starts from those and adds up to --max-seeds',
    );
  }
  try {
    validateConfig(exp, { ...config, seeds: auto.maxSeeds });
  } catch (e) {
    throw new ConfigError(`${at}--max-seeds ${auto.maxSeeds}: ${(e as Error).message}`);
  }
}

/** On resume: --seeds auto given on the command line must match what the run (or study) recorded when it started. */
export function sameSeedsAuto(file: string, recorded: SeedsAuto | undefined, given: SeedsAuto | undefined): void {
  if (given === undefined) return;
  if (recorded === undefined) {
    throw new RunError(`${file} was started with fixed seeds, not --seeds auto; resume it without --seeds auto (or start a new run)`);
  }
  if (recorded.maxSeeds !== given.maxSeeds) {
    throw new RunError(
      `${file} was started with --seeds auto --max-seeds ${recorded.maxSeeds}, not ${given.maxSeeds}; resume it without --seeds/--max-seeds`,
    );
  }
}

/** The part of a prepared run the loop works on (the runner's Prepared has these). */
export interface AutoRun {
  exp: Experiment<BaseConfig>;
  config: BaseConfig;
  grid: TrialSpec[];
  done: Map<string, Trial>;
  pending: TrialSpec[];
}

/** What the runner lends the loop: its pool and journal, its output writer and its log. */
export interface AutoIo<R extends AutoRun, O> {
  /** Runs every run's pending trials (journal, parallel, progress); resolves to the backend note. */
  runPending(runs: R[]): Promise<string>;
  /** Writes a run's outputs with the findings decided for it. */
  finish(run: R, backend: string, decided: { findings: Finding[]; multiplicity: Multiplicity }): O;
  log(line: string): void;
}

/**
 * The config findings see: `seeds` is the largest group's seed count, so texts that quote "N seeds" stay true after seeds
 * were added (the trials' own config keeps the configured count: a trial never depends on it).
 */
export function findingsConfig(config: BaseConfig, trials: readonly Trial[]): BaseConfig {
  const per = new Map<string, number>();
  for (const t of trials) per.set(groupKey(t), (per.get(groupKey(t)) ?? 0) + 1);
  return { ...config, seeds: Math.max(config.seeds, ...per.values()) };
}

function trialsOf(r: AutoRun): Trial[] {
  return r.grid.map((s) => r.done.get(s.id)!);
}

/**
 * Extends run r's grid for the next look: the groups its open findings rest on get the trials of seeds up to `target`, taken
 * from the grid the experiment builds for maxSeeds seeds (the same ids and seeds a fixed --seeds run would have). Returns how
 * many trials were added.
 */
function extend(r: AutoRun, open: readonly string[], target: number, maxSeeds: number): number {
  const trials = trialsOf(r);
  const deps = dependencies(trials, (t) => r.exp.findings(t, findingsConfig(r.config, t)), open);
  const groups = new Set([...deps.values()].flatMap((g) => [...g]));
  const have = new Set(r.grid.map((s) => s.id));
  const add = r.exp.trials({ ...r.config, seeds: maxSeeds }).filter((s) => s.seed < target && !have.has(s.id) && groups.has(groupKey(s)));
  r.grid.push(...add);
  r.pending.push(...add.filter((s) => !r.done.has(s.id)));
  return add.length;
}

/** "look 2 of 3 (6 seeds, level 0.0125): 2 unresolved findings in fig1; +6 trials". */
function lookLine(k: number, looks: readonly Look[], open: string[], added: number): string {
  const l = looks[k];
  const trials = `${added} trial${added === 1 ? '' : 's'}`;
  const findings = `${open.length} unresolved finding${open.length === 1 ? '' : 's'}`;
  return `seeds auto, look ${k + 1} of ${looks.length} (up to ${l.seeds} seeds, level ${Number(l.alpha.toPrecision(3))}): ` +
    `${trials} added for ${findings} (${open.join(', ')})`;
}

/**
 * The --seeds auto loop over runs (one run, or a study's runs as one family): run the pending trials, compute every finding,
 * decide the look (sequential.ts: adjusted p-values against the look's share of 5%, a resolved finding keeps its verdict),
 * then give the next look's seeds to the groups the open findings rest on; stop when none is open, the last look is taken or
 * no group can help. Deterministic given the journal: a resumed run replays the same looks and runs only what is missing.
 */
export async function runSeedsAuto<R extends AutoRun, O>(runs: R[], family: Multiplicity['family'], auto: SeedsAuto, io: AutoIo<R, O>): Promise<O[]> {
  // The schedule starts at the largest configured seed count: a run configured with fewer seeds simply catches up at look 2
  // (starting at the smallest made a study of 3-seed runs with one 2-seed run look at 2, 4, 6: one seed gained per look).
  const looks = lookSchedule(Math.max(...runs.map((r) => r.config.seeds)), auto.maxSeeds);
  const decided = new Map<string, Finding>();
  const prefix = (r: AutoRun) => (family === 'study' ? `${r.exp.name}/` : '');
  for (let k = 0; ; k++) {
    const backend = await io.runPending(runs);
    const raw = runs.map((r) => r.exp.findings(trialsOf(r), findingsConfig(r.config, trialsOf(r))));
    const own = raw.map((f) => findingKeys(f));
    const keys = runs.flatMap((r, i) => own[i].map((key) => `${prefix(r)}${key}`));
    const d = decideLook(raw.flat(), keys, { k, looks, maxSeeds: auto.maxSeeds, family, decided });
    let added = 0;
    if (k + 1 < looks.length) {
      let at = 0;
      runs.forEach((r, i) => {
        const open = own[i].filter((_, j) => d.open[at + j]);
        at += own[i].length;
        added += extend(r, open, looks[k + 1].seeds, auto.maxSeeds);
      });
    }
    if (added === 0) {
      let at = 0;
      return runs.map((r, i) => io.finish(r, backend, { findings: d.findings.slice(at, (at += raw[i].length)), multiplicity: d.multiplicity }));
    }
    io.log(lookLine(k + 1, looks, keys.filter((_, i) => d.open[i]), added));
  }
}
