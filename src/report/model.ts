// The report's content, independent of its format: per run its findings, rendered figures, skips and table.
import type { Finding } from '../lab/results.js';
import type { Figure, SkippedFigure } from './figure.js';
import type { RunData } from './load.js';
import type { Table } from './table.js';
import type { TopLevelSpec } from 'vega-lite';

/** A figure after rendering. */
export interface RenderedFigure {
  figure: Figure;
  /** The decorated spec that was drawn (title, caption, command included). */
  spec: TopLevelSpec;
  svg: string;
  /** PNG path relative to the report directory (e.g. figures/fig1-accuracy.png). */
  png: string;
  /** Size of the PNG in pixels. */
  width: number;
  height: number;
}

/** What the experiment tests, from the lab's registry (absent for experiments bnlab does not know). */
export interface ExperimentInfo {
  title: string;
  claim: string;
  context: string;
}

/** Everything the report says about one run. */
export interface RunReport {
  run: RunData;
  info: ExperimentInfo | null;
  /** The command that reproduces the run. */
  command: string;
  /** Run directory relative to the report directory (for links), or absolute when unrelated. */
  dirLink: string;
  findings: Finding[];
  figures: RenderedFigure[];
  skipped: SkippedFigure[];
  table: Table;
}

/** The whole report. */
export interface ReportModel {
  runs: RunReport[];
  /** ISO time of generation. */
  generatedAt: string;
  /** Notes for the reader about how the report was made (e.g. no font found for PNGs). */
  notes: string[];
}
