// The fallback for any experiment: every curve as mean ± 95% CI over seeds per arm, so an unknown run still renders.
import type { FigureBuilder, FigureOutcome } from '../figure.js';
import { curveNames } from '../group.js';
import { curveFigure, STEP_AXIS } from './recipes.js';

/** At most this many generic figures per run: past that a report stops being readable. */
const MAX_FIGURES = 12;

/** "testAccuracy" -> "test accuracy", "gradNorm.layer1" -> "grad norm layer1". */
export function humanize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[._-]+/g, ' ')
    .toLowerCase()
    .trim();
}

/** One figure per curve name (the first MAX_FIGURES), x assumed to be the training step unless named. */
export const genericFigures: FigureBuilder = (run) => {
  const out: FigureOutcome[] = curveNames(run.trials)
    .slice(0, MAX_FIGURES)
    .map((name) =>
      curveFigure(run, {
        id: `curve-${name.replace(/[^A-Za-z0-9]+/g, '-')}`,
        title: `${humanize(name)[0].toUpperCase()}${humanize(name).slice(1)} (mean ± 95% CI over seeds)`,
        curves: [name],
        x: STEP_AXIS,
        y: { title: humanize(name) },
        what: `Final ${humanize(name)}`,
      }),
    );
  return out;
};
