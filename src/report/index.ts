// Reports: `writeReport(runDirs)` turns lab runs into report.html, one PNG per figure and summary.md.
//
// FOR THE RUNNER / CLI: call `await writeReport([runDir], { outDir })` at the end of `bnlab run` (and with all
// run dirs at the end of `bnlab study`). It returns the paths written; it throws ReportError (a BnlabError)
// for a missing dir / results.json or corrupt JSON, and never throws for missing curves (figures are skipped
// with a note). Default outDir: `<runDir>/report` for one run, `<common parent>/report` for several.
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { loadRun, type RunData } from './load.js';
import { figuresFor } from './specs/index.js';
import { decorate, toPng, toSvg } from './render.js';
import { metricsTable } from './table.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { findFonts } from './fonts.js';
import { skip, type SkippedFigure } from './figure.js';
import type { ExperimentInfo, ReportModel, RenderedFigure, RunReport } from './model.js';
import { ReportError } from './errors.js';
import { commandOf } from './command.js';
import { EXPERIMENTS, isExperimentName } from '../lab/registry.js';

export { ReportError };
export { loadRun, type RunData } from './load.js';
export { commandOf } from './command.js';
export type { ReportModel } from './model.js';

/** Options of writeReport. */
export interface ReportOptions {
  /** Where report.html, summary.md and figures/ go (created if needed). */
  outDir?: string;
  /** PNG resolution multiplier (default 2: crisp on slides). */
  scale?: number;
}

/** Paths written by writeReport. */
export interface ReportFiles {
  html: string;
  pngs: string[];
  summary: string;
}

/** The deepest directory containing all of `dirs`. */
export function commonParent(dirs: readonly string[]): string {
  const parts = dirs.map((d) => resolve(d).split(sep));
  const first = parts[0];
  let k = 0;
  while (k < first.length && parts.every((p) => p[k] === first[k])) k++;
  return first.slice(0, k).join(sep) || sep;
}

/** Default report directory: inside the run for one run, next to the runs for several. */
export function defaultOutDir(dirs: readonly string[]): string {
  if (dirs.length === 1) return join(resolve(dirs[0]), 'report');
  return join(commonParent(dirs), 'report');
}

/** Title, claim and context of a registered experiment, for the report's section heading. */
function infoOf(name: string): ExperimentInfo | null {
  if (!isExperimentName(name)) return null;
  const e = EXPERIMENTS[name];
  return { title: e.title, claim: e.claim, context: e.context };
}

/** A file-system-safe name part. */
function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** Builds, renders and writes the figures of one run; rendering failures become skipped figures. */
async function reportRun(run: RunData, index: number, names: Set<string>, outDir: string, scale: number): Promise<RunReport> {
  const outcomes = figuresFor({ results: run.results, trials: run.results.trials });
  const figures: RenderedFigure[] = [];
  const skipped: SkippedFigure[] = [];
  const command = commandOf(run);
  for (const o of outcomes) {
    if (o.kind === 'skipped') {
      skipped.push(o);
      continue;
    }
    try {
      const spec = decorate(o, command);
      const svg = await toSvg(spec);
      const { png, width, height } = toPng(svg, scale);
      let name = `${slug(run.results.experiment)}-${slug(o.id)}`;
      if (names.has(name)) name = `${name}-run${index + 1}`;
      names.add(name);
      const rel = `figures/${name}.png`;
      writeFileSync(join(outDir, rel), png);
      figures.push({ figure: o, spec, svg, png: rel, width, height });
    } catch (err) {
      skipped.push(skip(o.id, o.title, `rendering failed: ${(err as Error).message}`));
    }
  }
  // Link the run relative to the report (the pair moves together), unless it lives far away.
  const rel = relative(outDir, run.dir) || '.';
  const far = isAbsolute(rel) || rel.split(sep).filter((p) => p === '..').length > 2;
  return {
    run,
    info: infoOf(run.results.experiment),
    command,
    dirLink: far ? run.dir : rel,
    findings: run.results.findings,
    figures,
    skipped,
    table: metricsTable(run.results.trials),
  };
}

/**
 * Writes `report.html` (self-contained, offline), `figures/<experiment>-<figure>.png` and `summary.md`
 * for the given run directories into `opts.outDir` (see defaultOutDir). All runs are loaded and checked
 * before anything is written, so bad input leaves no half-written report.
 */
export async function writeReport(runDirs: string[], opts: ReportOptions = {}): Promise<ReportFiles> {
  if (runDirs.length === 0) throw new ReportError('bnlab report', 'no run directory given');
  const runs = runDirs.map(loadRun);
  const outDir = resolve(opts.outDir ?? defaultOutDir(runDirs));
  mkdirSync(join(outDir, 'figures'), { recursive: true });
  const names = new Set<string>();
  const reports: RunReport[] = [];
  for (let i = 0; i < runs.length; i++) reports.push(await reportRun(runs[i], i, names, outDir, opts.scale ?? 2));
  const notes: string[] = [];
  if (findFonts().files.length === 0) {
    notes.push('No TrueType font was found on this machine, so text in the PNG files may be missing (the figures in this page are unaffected). ' +
      'Install fonts-dejavu-core or set BNLAB_FONT to a .ttf file.');
  }
  const model: ReportModel = { runs: reports, generatedAt: new Date().toISOString(), notes };
  const html = join(outDir, 'report.html');
  const summary = join(outDir, 'summary.md');
  writeFileSync(html, renderHtml(model));
  writeFileSync(summary, renderMarkdown(model));
  return { html, pngs: reports.flatMap((r) => r.figures.map((f) => join(outDir, f.png))), summary };
}
