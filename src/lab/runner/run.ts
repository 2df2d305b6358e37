// The lab runner: run directories, config.json, the journal, trials across cores, resume, results and studies.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo } from '../../kernels/select.js';
import { loadDataset, locateIdx } from '../../data/index.js';
import type { BaseConfig, Experiment, TrialSpec } from '../experiment.js';
import { Journal, JOURNAL_FILE, readJournal } from './journal.js';
import { adjustFindings } from '../multiplicity.js';
import { createProgress, type ProgressSink } from './progress.js';
import { EXPERIMENTS, EXPERIMENT_NAMES, isExperimentName } from '../registry.js';
import type { Results, Trial } from '../results.js';
import { ConfigError, RunError, validateConfig, withSeedsFlag } from './config.js';
import { writeAtomic, writeOutputs } from './output.js';
import { runInline, runWorkers, type Task, type TaskEvents } from './pool.js';
import { checkSeedsAuto, runSeedsAuto, sameSeedsAuto, type SeedsAuto } from './seeds-auto.js';

/** How a run executes. */
export interface RunnerOptions {
  /** Trials run at once (default: the number of cores); 1 runs them inline in this thread. */
  jobs?: number;
  /** BLAS threads per job (default: cores / jobs, at least 1, so jobs x threads never oversubscribes). */
  threads?: number;
  /** Where progress goes (default: a bar on a terminal, plain lines otherwise). */
  progress?: ProgressSink;
  /** The command line, recorded in results.json. */
  command?: string;
  /** Keep each trial's final model as trials/<trial>/model.safetensors + model.json in the run directory. */
  saveWeights?: boolean;
  /** Run the trials elsewhere instead of on this machine (the BullMQ queue: src/queue/coordinator.ts). */
  pool?: ExternalPool;
  /**
   * `--seeds auto --max-seeds N`: after the configured seeds, add seeds to the trials unresolved findings rest on (see
   * seeds-auto.ts). Recorded in config.json (and study.json) by a new run; on resume it must match what is recorded.
   */
  seedsAuto?: SeedsAuto;
}

/** Trials executed outside this process: `run` calls `events.done` for each finished trial, as the local pool does. */
export interface ExternalPool {
  /** What ran the trials, for results.json's meta.backend (asked when a run finishes). */
  backend(): string;
  run(tasks: Task[], events: TaskEvents): Promise<void>;
}

/** What a finished run produced. */
export interface RunOutcome {
  dir: string;
  experiment: string;
  results: Results;
  /** Trials run in this session, and trials found already done in the journal. */
  ran: number;
  resumed: number;
}

/** A study: several runs under one directory. */
export interface StudyOutcome {
  dir: string;
  runs: RunOutcome[];
}

/** config.json of a run directory. */
export interface RunConfigFile {
  experiment: string;
  config: BaseConfig;
  createdAt: string;
  command: string;
  version: string;
  /** Present when the run adds seeds until its findings resolve (--seeds auto). */
  seedsAuto?: SeedsAuto;
  /** Seeds added later with `--resume DIR --seeds N` (add-seeds.ts), oldest first. */
  seedsAdded?: { from: number; to: number; at: string; command: string }[];
}

/** study.json of a study directory. */
export interface StudyFile {
  experiments: string[];
  createdAt: string;
  command: string;
  seedsAuto?: SeedsAuto;
}

export const CONFIG_FILE = 'config.json';
export const STUDY_FILE = 'study.json';

/** bnlab's version from package.json (found by walking up from this file, in src/ or dist/src/). */
export function bnlabVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Cores to plan for: Node's availableParallelism (honours CPU affinity). */
export function coreCount(): number {
  return Math.max(1, availableParallelism());
}

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A fresh directory name `<base>/<name>-<yyyymmdd-hhmmss>` (with -2, -3... if taken). */
export function newRunDir(name: string, base = 'runs'): string {
  const root = join(base, `${name}-${stamp()}`);
  let dir = root;
  for (let i = 2; existsSync(dir); i++) dir = `${root}-${i}`;
  return dir;
}

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new RunError(`${path}: cannot read the ${what} (${(e as Error).message})`);
  }
}

/** The registered experiment called `name`, or a RunError listing the known ones. */
export function experimentByName(name: string): Experiment<BaseConfig> {
  if (!isExperimentName(name)) throw new ConfigError(`unknown experiment '${name}' (known: ${EXPERIMENT_NAMES.join(', ')}; see bnlab list)`);
  return EXPERIMENTS[name];
}

/** A run ready to execute: its directory, config, journal, what is done and what is left. */
interface Prepared {
  exp: Experiment<BaseConfig>;
  config: BaseConfig;
  dir: string;
  startedAt: string;
  command: string;
  grid: TrialSpec[];
  done: Map<string, Trial>;
  pending: TrialSpec[];
  /** --seeds auto as recorded in config.json; the grid then starts at the configured seeds and grows look by look. */
  auto?: SeedsAuto;
  /** Trials run in this session. */
  ran: number;
}

function checkGrid(exp: Experiment<BaseConfig>, grid: TrialSpec[]): void {
  const seen = new Set<string>();
  for (const s of grid) {
    if (seen.has(s.id)) throw new RunError(`${exp.name}: the trial grid has two trials with id '${s.id}' (an experiment bug: ids must be unique)`);
    seen.add(s.id);
  }
}

/**
 * Fails before anything is written when the config names IDX files that are not there (fashion-mnist
 * without --data, a mistyped directory): loadDataset raises its precise error (what is missing, how to get it).
 */
export function checkDataAvailable(config: BaseConfig): void {
  const name = config.dataset;
  if ((name === 'fashion-mnist' || name === 'mnist') && locateIdx(name, config.dataDir) === null) loadDataset(name, { dataDir: config.dataDir });
}

/** Creates a run directory with config.json; refuses a directory that already holds a run. */
function createRun(exp: Experiment<BaseConfig>, config: BaseConfig, dir: string, command: string, seedsAuto?: SeedsAuto): void {
  checkDataAvailable(config);
  if (seedsAuto) checkSeedsAuto(exp, config, seedsAuto);
  if (existsSync(join(dir, CONFIG_FILE))) {
    throw new RunError(`${dir} already holds a run (${CONFIG_FILE}); continue it with --resume ${dir} or choose another --out`);
  }
  mkdirSync(dir, { recursive: true });
  const file: RunConfigFile = {
    experiment: exp.name,
    config,
    createdAt: new Date().toISOString(),
    command,
    version: bnlabVersion(),
    ...(seedsAuto ? { seedsAuto } : {}),
  };
  writeAtomic(join(dir, CONFIG_FILE), JSON.stringify(file, null, 2) + '\n');
}

/** A run directory's config.json, checked to be one (and of the experiment `expected`, when named). */
export function readRunConfig(dir: string, expected?: string): RunConfigFile {
  const cfgPath = join(dir, CONFIG_FILE);
  if (!existsSync(cfgPath)) throw new RunError(`${dir} is not a bnlab run directory (no ${CONFIG_FILE})`);
  const file = readJson<RunConfigFile>(cfgPath, 'run config');
  if (typeof file.experiment !== 'string') throw new RunError(`${cfgPath}: no "experiment" name`);
  if (expected !== undefined && expected !== file.experiment) throw new RunError(`${dir} holds a run of '${file.experiment}', not '${expected}'`);
  return file;
}

/** A study directory's study.json, checked to be one. */
export function readStudyFile(dir: string): StudyFile {
  const path = join(dir, STUDY_FILE);
  if (!existsSync(path)) throw new RunError(`${dir} is not a bnlab study directory (no ${STUDY_FILE})`);
  return readJson<StudyFile>(path, 'study file');
}

/** Loads a run directory: its experiment (from the registry unless given), config and journal. */
function loadRun(dir: string, given?: Experiment<BaseConfig>): Prepared {
  const cfgPath = join(dir, CONFIG_FILE);
  const file = readRunConfig(dir, given?.name);
  const exp = given ?? experimentByName(file.experiment);
  const config = validateConfig(exp, file.config);
  const grid = exp.trials(config);
  checkGrid(exp, grid);
  // Under --seeds auto the journal may hold later looks' trials: any seed up to maxSeeds of the same grid.
  const auto = file.seedsAuto;
  if (auto) checkSeedsAuto(exp, config, auto, cfgPath);
  const ids = new Set((auto ? exp.trials({ ...config, seeds: auto.maxSeeds }) : grid).map((s) => s.id));
  const done = new Map<string, Trial>();
  for (const t of readJournal(join(dir, JOURNAL_FILE)).trials) {
    if (!ids.has(t.id)) throw new RunError(`${join(dir, JOURNAL_FILE)}: trial '${t.id}' is not in this run's grid (was config.json edited?)`);
    done.set(t.id, t);
  }
  const pending = grid.filter((s) => !done.has(s.id));
  // A run given more seeds later (add-seeds.ts) is reproduced by its first command with the seeds it has now.
  const command = file.seedsAdded?.length ? withSeedsFlag(file.command, config.seeds) : file.command;
  return { exp, config, dir, startedAt: file.createdAt, command, grid, done, pending, auto, ran: 0 };
}

function backendNote(jobs: number, threads: number): string {
  const b = backendInfo();
  return `${b.name} (${b.description}); ${jobs} job${jobs > 1 ? 's' : ''} x ${threads} BLAS thread${threads > 1 ? 's' : ''}`;
}

/** Findings and outputs of a run whose trials are all done (findings as --seeds auto decided them, when given). */
function finalize(p: Prepared, backend: string, decided?: Pick<Results, 'findings' | 'multiplicity'>): Results {
  const trials = p.grid.map((s) => p.done.get(s.id)!);
  const results: Results = {
    experiment: p.exp.name,
    config: p.config as unknown as Record<string, unknown>,
    trials,
    ...(decided ?? adjustFindings(p.exp.findings(trials, p.config), 'run')),
    meta: {
      version: bnlabVersion(),
      backend,
      node: process.version,
      startedAt: p.startedAt,
      finishedAt: new Date().toISOString(),
      command: p.command,
      dataset: p.config.dataset,
    },
  };
  writeOutputs(p.dir, results, p.exp);
  return results;
}

/**
 * Runs the pending trials of prepared runs through one pool (a study keeps every core busy across experiments), appending
 * each finished trial to its run's journal; `complete` is called as soon as a run's last trial lands. Returns the backend note.
 */
async function runPending(runs: Prepared[], label: string, opts: RunnerOptions, complete?: (p: Prepared, backend: string) => void): Promise<string> {
  const cores = coreCount();
  const ownerOf = new Map<Task, Prepared>();
  const tasks: Task[] = [];
  for (const p of runs) {
    for (const spec of p.pending) {
      const task: Task = { exp: p.exp, config: p.config, spec, weightsDir: opts.saveWeights ? p.dir : undefined };
      ownerOf.set(task, p);
      tasks.push(task);
    }
  }
  const jobs = Math.max(1, Math.min(opts.jobs ?? cores, tasks.length));
  const threads = opts.threads ?? Math.max(1, Math.floor(cores / jobs));
  const progress = opts.progress ?? createProgress('auto');
  const backend = backendNote(jobs, threads);
  const note = () => opts.pool?.backend() ?? backend;
  const journals = new Map(runs.map((p) => [p.dir, new Journal(join(p.dir, JOURNAL_FILE))]));
  const doneOf = (p: Prepared) => p.grid.filter((s) => p.done.has(s.id)).length;
  const total = runs.reduce((a, p) => a + p.grid.length, 0);
  const groups = Object.fromEntries(runs.map((p) => [p.exp.name, { total: p.grid.length, done: doneOf(p) }]));
  progress.begin(label, total, runs.reduce((a, p) => a + doneOf(p), 0), note(), groups);
  try {
    // Runs already complete (a resumed finished run) just get their outputs rewritten.
    for (const p of runs) if (p.pending.length === 0) complete?.(p, note());
    const events = {
      progress: (task: Task, f: number) => progress.update(`${task.exp.name}/${task.spec.id}`, f),
      done: (task: Task, trial: Trial) => {
        const p = ownerOf.get(task)!;
        journals.get(p.dir)!.append(trial);
        p.done.set(trial.id, trial);
        p.ran++;
        progress.trialDone(trial, task.exp.name);
        if (p.pending.every((s) => p.done.has(s.id))) complete?.(p, note());
      },
    };
    if (opts.pool) await opts.pool.run(tasks, events);
    else if (jobs === 1) await runInline(tasks, threads, events);
    else await runWorkers(tasks, jobs, threads, events);
  } finally {
    progress.end();
    for (const j of journals.values()) j.close();
  }
  for (const p of runs) p.pending = p.pending.filter((s) => !p.done.has(s.id));
  return note();
}

function outcomeOf(p: Prepared, results: Results): RunOutcome {
  return { dir: p.dir, experiment: p.exp.name, results, ran: p.ran, resumed: p.grid.length - p.ran };
}

/**
 * Executes prepared runs: their pending trials, then findings, corrected per run (and across a study). Runs under
 * --seeds auto go through runSeedsAuto, which adds seeds look by look before the findings are final.
 */
async function execute(runs: Prepared[], label: string, opts: RunnerOptions): Promise<RunOutcome[]> {
  const auto = runs[0]?.auto;
  if (auto) {
    const progress = opts.progress ?? createProgress('auto');
    const io = {
      runPending: (rs: Prepared[]) => runPending(rs, label, { ...opts, progress }),
      finish: (p: Prepared, backend: string, decided: Pick<Results, 'findings' | 'multiplicity'>) => outcomeOf(p, finalize(p, backend, decided)),
      log: (line: string) => progress.log(line),
    };
    return runSeedsAuto(runs, label === 'study' ? 'study' : 'run', auto, io);
  }
  const outcomes = new Map<string, RunOutcome>();
  await runPending(runs, label, opts, (p, backend) => outcomes.set(p.dir, outcomeOf(p, finalize(p, backend))));
  const out = runs.map((p) => outcomes.get(p.dir)!);
  if (label === 'study') correctStudy(runs, out);
  return out;
}

/**
 * A study states every run's findings at once, so their p-values are corrected as one family: each run was corrected
 * on its own when it finished (its results are usable early), and is restated and rewritten here across the study.
 */
function correctStudy(runs: Prepared[], outcomes: RunOutcome[]): void {
  const all = outcomes.flatMap((o) => o.results.findings);
  const { findings, multiplicity } = adjustFindings(all, 'study');
  let k = 0;
  outcomes.forEach((o, i) => {
    o.results.findings = findings.slice(k, (k += o.results.findings.length));
    o.results.multiplicity = multiplicity;
    writeOutputs(runs[i].dir, o.results, runs[i].exp);
  });
}

/**
 * Runs an experiment into a new run directory `dir` (created; must not hold a run already):
 * config.json first, then trials (journal.jsonl, fsync'd per trial), then results.json, results.csv
 * and summary.md. `config` must be validated (see resolveConfig).
 */
export async function runExperiment<C extends BaseConfig>(exp: Experiment<C>, config: C, dir: string, opts: RunnerOptions = {}): Promise<RunOutcome> {
  const e = exp as unknown as Experiment<BaseConfig>;
  createRun(e, config, dir, opts.command ?? '', opts.seedsAuto);
  const [out] = await execute([loadRun(dir, e)], exp.name, opts);
  return out;
}

/**
 * Resumes a run directory: trials in its journal are kept as they are, the rest run, then the outputs
 * are (re)written. The experiment comes from the registry unless given.
 */
export async function resumeRun<C extends BaseConfig>(dir: string, opts: RunnerOptions = {}, exp?: Experiment<C>): Promise<RunOutcome> {
  const p = loadRun(dir, exp as unknown as Experiment<BaseConfig> | undefined);
  sameSeedsAuto(join(dir, CONFIG_FILE), p.auto, opts.seedsAuto);
  const [out] = await execute([p], p.exp.name, opts);
  return out;
}

/**
 * Runs several experiments as one study: every config is validated and every run directory
 * `<dir>/<experiment>/` created before the first trial, then all trials share one pool.
 */
export async function runStudy(
  plan: { exp: Experiment<BaseConfig>; config: BaseConfig }[],
  dir: string,
  opts: RunnerOptions = {},
): Promise<StudyOutcome> {
  if (existsSync(join(dir, STUDY_FILE))) throw new RunError(`${dir} already holds a study; continue it with --resume ${dir} or choose another --out`);
  for (const { exp, config } of plan) {
    checkDataAvailable(config);
    if (opts.seedsAuto) checkSeedsAuto(exp, config, opts.seedsAuto);
  }
  mkdirSync(dir, { recursive: true });
  const auto = opts.seedsAuto ? { seedsAuto: opts.seedsAuto } : {};
  const file: StudyFile = { experiments: plan.map((x) => x.exp.name), createdAt: new Date().toISOString(), command: opts.command ?? '', ...auto };
  writeAtomic(join(dir, STUDY_FILE), JSON.stringify(file, null, 2) + '\n');
  for (const { exp, config } of plan) createRun(exp, config, join(dir, exp.name), opts.command ?? '', opts.seedsAuto);
  const runs = plan.map(({ exp }) => loadRun(join(dir, exp.name), exp));
  return { dir, runs: await execute(runs, 'study', opts) };
}

/** Resumes a study directory: each experiment's run resumes from its journal. */
export async function resumeStudy(dir: string, opts: RunnerOptions = {}): Promise<StudyOutcome> {
  const path = join(dir, STUDY_FILE);
  const file = readStudyFile(dir);
  sameSeedsAuto(path, file.seedsAuto, opts.seedsAuto);
  const runs = file.experiments.map((name) => loadRun(join(dir, name)));
  return { dir, runs: await execute(runs, 'study', opts) };
}

/** True if `dir` holds a study (study.json) rather than a single run. */
export function isStudyDir(dir: string): boolean {
  return existsSync(join(dir, STUDY_FILE));
}

/** Run directories inside a study directory, in study order (for reports). */
export function studyRunDirs(dir: string): string[] {
  const file = readJson<StudyFile>(join(dir, STUDY_FILE), 'study file');
  return file.experiments.map((n) => join(dir, n)).filter((d) => existsSync(join(d, 'results.json')));
}
