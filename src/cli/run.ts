// `bnlab run`, `bnlab study` and `bnlab list`: parse flags, resolve configs, call the lab runner, then the report.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXPERIMENTS, EXPERIMENT_NAMES } from '../lab/registry.js';
import { comparisonLine, multiplicityText } from '../lab/multiplicity.js';
import { ConfigError, positiveIntFlag, resolveConfig, type ConfigOverrides, type PresetName } from '../lab/runner/config.js';
import {
  checkDataAvailable,
  experimentByName,
  newRunDir,
  resumeRun,
  resumeStudy,
  runExperiment,
  runStudy,
  type RunOutcome,
  type RunnerOptions,
} from '../lab/runner/run.js';
import { createProgress, fmtDuration, type ProgressMode } from '../lab/runner/progress.js';
import { seedsFlags } from '../lab/runner/seeds-auto.js';
import { addSeeds, addSeedsToStudy } from '../lab/runner/add-seeds.js';
import { writeReport } from '../report/index.js';
import { backendInfo } from '../kernels/select.js';
import { installHint } from '../kernels/blas/index.js';
import { parseQueueUrl, redactUrlsIn } from '../queue/connection.js';
import { queuePool } from '../queue/coordinator.js';

/** Flags shared by `run` and `study` (commander's camelCase names). */
interface RunFlags {
  tiny?: boolean;
  quick?: boolean;
  full?: boolean;
  set?: string[];
  seeds?: string;
  maxSeeds?: string;
  steps?: string;
  dataset?: string;
  data?: string;
  jobs?: string;
  threads?: string;
  out?: string;
  resume?: string;
  report: boolean;
  progress?: string;
  only?: string;
  saveWeights?: boolean;
  queue?: string;
}

const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'bar', 'plain', 'silent'];

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function presetOf(f: RunFlags): PresetName | undefined {
  const chosen = (['tiny', 'quick', 'full'] as const).filter((p) => f[p]);
  if (chosen.length > 1) throw new ConfigError(`choose one preset, got ${chosen.map((p) => `--${p}`).join(' and ')}`);
  return chosen[0];
}

function overridesOf(f: RunFlags, lenient: boolean): ConfigOverrides {
  return {
    preset: presetOf(f),
    sets: f.set,
    seeds: seedsFlags(f.seeds, f.maxSeeds).seeds,
    steps: positiveIntFlag('--steps', f.steps),
    dataset: f.dataset,
    dataDir: f.data,
    lenient,
  };
}

/**
 * --resume continues with the stored config: any flag that would change it is refused, not ignored, except `--seeds N`,
 * which adds seeds (src/lab/runner/add-seeds.ts). Returns that N, if given.
 */
function resumeFlags(f: RunFlags): number | undefined {
  const given = [
    f.tiny && '--tiny', f.quick && '--quick', f.full && '--full', f.set?.length && '--set',
    f.steps && '--steps', f.dataset && '--dataset', f.data && '--data', f.only && '--only', f.out && '--out',
  ].filter(Boolean);
  if (given.length) {
    throw new ConfigError(
      `--resume continues a run with the config it was started with; ${given.join(', ')} cannot change it (start a new run instead)`,
    );
  }
  return seedsFlags(f.seeds, f.maxSeeds).seeds;
}

/**
 * Without OpenBLAS and without WebAssembly SIMD every GEMM runs in plain TypeScript loops: say so before a run that
 * then takes much longer (the README's speed section: their sgemm at 1.7-3.2 GFLOP/s, OpenBLAS's at ~100).
 */
function warnSlowBackend(): void {
  const b = backendInfo();
  if (b.name !== 'ts' || process.env.BNLAB_BACKEND) return;
  console.error(`note: neither OpenBLAS nor WebAssembly SIMD is available, so training runs on the plain TypeScript loops, bnlab's slowest backend `
    + `(the README measured their GEMM 30-60x slower than OpenBLAS's; \`bnlab info\` says why); for speed: ${installHint()}`);
}

function runnerOptions(f: RunFlags): RunnerOptions {
  warnSlowBackend();
  const mode = (f.progress ?? 'auto') as ProgressMode;
  if (!PROGRESS_MODES.includes(mode)) throw new ConfigError(`--progress expects one of ${PROGRESS_MODES.join(', ')}, got '${f.progress}'`);
  const progress = createProgress(mode);
  // The queue URL may hold a password: parsed (and checked) first, and masked in the command kept in config.json and results.json.
  if (f.queue && f.saveWeights) {
    throw new ConfigError('--save-weights does not work with --queue (workers on other machines cannot write into this run directory)');
  }
  const pool = f.queue ? queuePool({ target: parseQueueUrl(f.queue), progress }) : undefined;
  return {
    jobs: positiveIntFlag('--jobs', f.jobs),
    threads: positiveIntFlag('--threads', f.threads),
    progress,
    command: redactUrlsIn(`bnlab ${process.argv.slice(2).join(' ')}`),
    saveWeights: f.saveWeights ?? false,
    pool,
    seedsAuto: seedsFlags(f.seeds, f.maxSeeds).auto,
  };
}

function printRun(o: RunOutcome): void {
  const ms = o.results.trials.reduce((a, t) => a + t.durationMs, 0);
  const resumed = o.resumed ? `, ${o.resumed} from the journal` : '';
  console.log(
    `\n${o.experiment}: ${o.results.trials.length} trials (${o.ran} run now${resumed}; ${fmtDuration(ms / 1000)} of trial time) -> ${o.dir}`,
  );
  console.log(`  ${multiplicityText(o.results.multiplicity)}`);
  for (const f of o.results.findings) {
    console.log(`  [${f.verdict}] ${f.text}`);
    const c = f.comparisons?.[0];
    if (c) console.log(`      ${comparisonLine(c)}`);
  }
}

async function report(dirs: string[], outDir: string | undefined): Promise<void> {
  try {
    const files = await writeReport(dirs, outDir ? { outDir } : {});
    console.log(`\nreport: ${files.html}\nsummary: ${files.summary}`);
  } catch (e) {
    // The runs are complete and saved; a failed report must not hide that, and says how to retry it.
    const retry = `bnlab report ${dirs.join(' ')}${outDir ? ` --out ${outDir}` : ''}`;
    console.error(`bnlab: the runs are saved, but the report failed: ${(e as Error).message} (retry with: ${retry})`);
    process.exitCode = 1;
  }
}

const PRESET_HELP = '--tiny (seconds, for tests), --quick (default) or --full (the paper\'s scale)';

function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--quick', 'quick preset (default): minutes for all experiments on 2 cores')
    .option('--full', "full preset: the paper's scale (fig1: 50,000 steps, 5 seeds)")
    .option('--tiny', 'tiny preset: seconds, for tests')
    .option('--set <key=value>', 'override a config value, JSON when it parses (e.g. --set steps=2000 --set lrs=[0.1,1]); repeatable', collect)
    .option('--seeds <n>', 'seeds per arm (default: 3 in quick, 5 in full), or auto: add seeds where findings are unresolved, up to --max-seeds')
    .option('--max-seeds <n>', 'with --seeds auto: the most seeds per arm (looks at the configured seeds, then doubling; see the report)')
    .option('--steps <n>', 'training steps')
    .option('--dataset <name>', 'dataset (default mnist-10k; fashion-mnist, mnist need IDX files, see bnlab datasets)')
    .option('--data <dir>', 'directory with MNIST-format IDX files')
    .option('--jobs <n>', 'trials run at once (default: number of cores; 1 runs in this thread)')
    .option('--threads <n>', 'BLAS threads per job (default: cores / jobs)')
    .option('--out <dir>', 'output directory (default runs/<name>-<time>)')
    .option('--resume <dir>', 'continue a killed run from its journal, without repeating finished trials; with --seeds N, add seeds to it')
    .option('--no-report', 'skip writing the report')
    .option(
      '--save-weights',
      "keep each trial's final model as trials/<trial>/model.safetensors + model.json (fig1, lr, regularization, cnn, residual, placement)",
    )
    .option('--progress <mode>', 'auto (bar on a terminal, lines otherwise), bar, plain or silent')
    .option('--queue <url>', 'run the trials on `bnlab worker`s through Redis: redis://[user:password@]host[:port][/db] or rediss://');
}

/** Registers `bnlab run <experiment>`. */
export function registerRun(program: Command): void {
  addRunOptions(
    program
      .command('run')
      .argument('[experiment]', `one of ${EXPERIMENT_NAMES.join(', ')} (see bnlab list)`)
      .description(`run an experiment with several seeds into a run directory; ${PRESET_HELP}`),
  ).action(async (name: string | undefined, f: RunFlags) => {
    const opts = runnerOptions(f);
    let outcome: RunOutcome;
    if (f.resume) {
      const seeds = resumeFlags(f);
      if (seeds !== undefined) addSeeds(f.resume, seeds, opts.command ?? '', name);
      outcome = await resumeRun(f.resume, opts, name !== undefined ? experimentByName(name) : undefined);
    } else {
      if (name === undefined) throw new ConfigError(`name an experiment: bnlab run <${EXPERIMENT_NAMES.join('|')}> (or --resume DIR)`);
      const exp = experimentByName(name);
      const config = resolveConfig(exp, overridesOf(f, false));
      checkDataAvailable(config);
      const dir = f.out ?? newRunDir(exp.name);
      console.error(`${exp.name}: writing ${dir} (if interrupted: bnlab run --resume ${dir})`);
      outcome = await runExperiment(exp, config, dir, opts);
    }
    printRun(outcome);
    if (f.report) await report([outcome.dir], undefined);
  });
}

function onlyList(only: string | undefined): string[] {
  if (!only) return [...EXPERIMENT_NAMES];
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) experimentByName(n);
  return EXPERIMENT_NAMES.filter((n) => names.includes(n));
}

/** Registers `bnlab study`: every experiment, each into its own directory under one study directory. */
export function registerStudy(program: Command): void {
  addRunOptions(
    program
      .command('study')
      .description(`run every experiment (each into <study dir>/<experiment>/) and write one report; ${PRESET_HELP}`)
      .option('--only <names>', 'comma-separated experiments to include (default: all)'),
  ).action(async (f: RunFlags) => {
    const opts = runnerOptions(f);
    let dir: string;
    let outcome;
    if (f.resume) {
      const seeds = resumeFlags(f);
      if (seeds !== undefined) addSeedsToStudy(f.resume, seeds, opts.command ?? '');
      dir = f.resume;
      outcome = await resumeStudy(dir, opts);
    } else {
      // Validate every config before the first trial: a typo in --set fails now, not after an hour.
      const overrides = overridesOf(f, true);
      const plan = onlyList(f.only).map((n) => {
        const exp = experimentByName(n);
        return { exp, config: resolveConfig(exp, overrides) };
      });
      for (const p of plan) checkDataAvailable(p.config);
      dir = f.out ?? newRunDir('study');
      console.error(`study: ${plan.map((p) => p.exp.name).join(', ')}; writing ${dir} (if interrupted: bnlab study --resume ${dir})`);
      outcome = await runStudy(plan, dir, opts);
    }
    for (const r of outcome.runs) printRun(r);
    if (f.report) await report(outcome.runs.map((r) => r.dir), join(resolve(dir), 'report'));
  });
}

/** Registers `bnlab list` (alias `experiments`): the experiments with their claims and preset sizes. */
export function registerList(program: Command): void {
  program
    .command('list')
    .alias('experiments')
    .description('list the experiments: name, the claim tested, trials per preset')
    .option('--json', 'print as JSON')
    .action((f: { json?: boolean }) => {
      const rows = EXPERIMENT_NAMES.map((name) => {
        const e = EXPERIMENTS[name];
        const trials = { tiny: e.trials(e.presets.tiny).length, quick: e.trials(e.presets.quick).length, full: e.trials(e.presets.full).length };
        return { name, title: e.title, claim: e.claim, trials };
      });
      if (f.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      for (const r of rows) {
        console.log(`${r.name.padEnd(15)} ${r.title}`);
        console.log(`${''.padEnd(15)} claim: ${r.claim}`);
        console.log(`${''.padEnd(15)} trials: ${r.trials.quick} quick, ${r.trials.full} full`);
      }
      console.log('\nrun one: bnlab run <name> [--quick|--full] [--set key=value] [--seeds N] [--jobs N]; all: bnlab study');
    });
}
