// Which figures each experiment gets: the builder table, and the generic fallback for experiments without one.
import type { FigureBuilder, FigureOutcome, RunView } from '../figure.js';
import { skip } from '../figure.js';
import { fig1Figures } from './fig1.js';
import { lrFigures } from './lr.js';
import { initFigures } from './init.js';
import { regularizationFigures } from './regularization.js';
import { depthFigures } from './depth.js';
import { icsFigures } from './ics.js';
import { inferenceFigures } from './inference.js';
import { batchsizeFigures } from './batchsize.js';
import { scalesFigures } from './scales.js';
import { cnnFigures } from './cnn.js';
import { residualFigures } from './residual.js';
import { placementFigures } from './placement.js';
import { genericFigures } from './generic.js';

/** Figure builders by experiment name (`results.experiment`). */
export const BUILDERS: Record<string, FigureBuilder> = {
  fig1: fig1Figures,
  lr: lrFigures,
  init: initFigures,
  regularization: regularizationFigures,
  depth: depthFigures,
  ics: icsFigures,
  inference: inferenceFigures,
  batchsize: batchsizeFigures,
  scales: scalesFigures,
  cnn: cnnFigures,
  residual: residualFigures,
  placement: placementFigures,
};

/**
 * The figures of a run. A builder that throws becomes a skipped figure (the report must not die on data
 * it did not expect); when an experiment has no builder, or none of its figures could be drawn, the
 * generic per-curve figures are added so the run still shows its data.
 */
export function figuresFor(run: RunView): FigureOutcome[] {
  const builder = BUILDERS[run.results.experiment];
  const out: FigureOutcome[] = [];
  if (builder) {
    try {
      out.push(...builder(run));
    } catch (err) {
      out.push(skip('figures', `${run.results.experiment} figures`, `figure builder failed: ${(err as Error).message}`));
    }
  }
  if (!out.some((f) => f.kind === 'figure')) {
    try {
      out.push(...genericFigures(run));
    } catch (err) {
      out.push(skip('curves', 'Curves', `generic figure builder failed: ${(err as Error).message}`));
    }
  }
  return out;
}
