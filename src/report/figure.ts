// What a figure builder returns: a drawable figure (a Vega-Lite spec plus words) or a skip with the reason.
import type { TopLevelSpec } from 'vega-lite';
import type { Results, Trial } from '../lab/results.js';

/** A figure ready to render: the spec holds data and encodings; title, caption and command are added on render. */
export interface Figure {
  kind: 'figure';
  /** Short key, unique within a run (file names: `<experiment>-<id>.png`). */
  id: string;
  title: string;
  /** One sentence: the finding the figure shows, with the number of seeds. */
  caption: string;
  spec: TopLevelSpec;
}

/** A figure that could not be drawn because its data is missing (or its builder failed); shown as a note. */
export interface SkippedFigure {
  kind: 'skipped';
  id: string;
  title: string;
  reason: string;
}

export type FigureOutcome = Figure | SkippedFigure;

/** What a builder sees of a run. */
export interface RunView {
  results: Results;
  /** All trials of the run (alias of results.trials for brevity). */
  trials: Trial[];
}

/** Builds an experiment's figures; must not throw on missing data (return a SkippedFigure instead). */
export type FigureBuilder = (run: RunView) => FigureOutcome[];

/** Shorthand for a skipped figure. */
export function skip(id: string, title: string, reason: string): SkippedFigure {
  return { kind: 'skipped', id, title, reason };
}

/** Shorthand for a figure. */
export function figure(id: string, title: string, caption: string, spec: TopLevelSpec): Figure {
  return { kind: 'figure', id, title, caption, spec };
}
