// A run's figures for the page: the report's own builders (src/report/specs) and decoration, so page and report agree.
import type { TopLevelSpec } from 'vega-lite';
import type { Results } from '../../../src/lab/results.js';
import { commandOf } from '../../../src/report/command.js';
import { decorate } from '../../../src/report/decorate.js';
import type { SkippedFigure } from '../../../src/report/figure.js';
import { figuresFor } from '../../../src/report/specs/index.js';
import { metricsTable, type Table } from '../../../src/report/table.js';

/** A figure ready for vega-embed: the decorated spec carries title, caption and the reproducing command. */
export interface PageFigure {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

/** Everything the page draws for one run, besides its findings (which are in `results`). */
export interface RunFigures {
  command: string;
  figures: PageFigure[];
  skipped: SkippedFigure[];
  table: Table;
}

/** Builds the figures of a run exactly as `bnlab report` does, minus the rendering to SVG/PNG. */
export function runFigures(results: Results): RunFigures {
  const command = commandOf({ results });
  const figures: PageFigure[] = [];
  const skipped: SkippedFigure[] = [];
  for (const o of figuresFor({ results, trials: results.trials })) {
    if (o.kind === 'skipped') skipped.push(o);
    else figures.push({ id: o.id, title: o.title, caption: o.caption, spec: decorate(o, command) });
  }
  return { command, figures, skipped, table: metricsTable(results.trials) };
}
