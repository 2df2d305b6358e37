// Tests of the `cnn` experiment: schema refusals before any trial, a tiny run end to end, kept models, findings from synthetic trials.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cnn, type CnnConfig } from '../../src/lab/experiments/cnn.js';
import { trialId, type ModelArch, type TrialContext } from '../../src/lab/experiment.js';
import type { Trial } from '../../src/lab/results.js';
import type { Module } from '../../src/nn/module.js';
import { loadTrialModel, saveTrialModel } from '../../src/lab/saved-model.js';
import { trialDataset } from '../../src/lab/saved-eval.js';
import { evaluate } from '../../src/lab/train.js';
import { ctx, editTrials, expectTrialShape, finding, mnist, parseErrors, runAll } from './mlp-harness.js';
import { expectFigures, expectFindings, synth, wobble } from './convnet-harness.js';

const tiny = cnn.presets.tiny;
const IDS = ['steps-to-target', 'best-accuracy', 'max-learning-rate', 'best-lr-distance'];

describe('cnn experiment: config', () => {
  it('has valid presets; quick on mnist-10k, full on fashion-mnist', () => {
    for (const p of ['tiny', 'quick', 'full'] as const) expect(cnn.schema.parse(cnn.presets[p])).toEqual(cnn.presets[p]);
    expect(cnn.presets.quick.dataset).toBe('mnist-10k');
    expect(cnn.presets.full.dataset).toBe('fashion-mnist');
  });

  it('refuses configs whose nets cannot build, naming the field, the arm and the reason', () => {
    expect(parseErrors(cnn.schema, { ...tiny, widths: [6, 8], groups: 4 }).join()).toMatch(/widths: the net of arm group cannot be built: widths: 6 not divisible by groups = 4/);
    // Five 2x2 pools after the input pool of 2: 14 -> 7 -> 3 -> 1 -> 0.
    expect(parseErrors(cnn.schema, { ...tiny, widths: [4, 4, 4, 4] }).join()).toMatch(/widths: .*imageSize: 28 cannot be max-pooled 2x2 once per stage 4 times after the input pool of 2/);
    expect(parseErrors(cnn.schema, { ...tiny, inputPool: 0 }).join()).toMatch(/inputPool must be at least 1/);
    expect(parseErrors(cnn.schema, { ...tiny, arms: ['bn', 'instance'] }).join()).toMatch(/arms\.1/);
    expect(parseErrors(cnn.schema, { ...tiny, dataset: 'moons' }).join()).toMatch(/dataset must be an image dataset/);
    expect(parseErrors(cnn.schema, { ...tiny, lrz: [1] }).join()).toMatch(/lrz/);
    // Without the group arm the widths need not divide.
    expect(parseErrors(cnn.schema, { ...tiny, arms: ['bn', 'none'], widths: [6, 8], groups: 4 })).toEqual([]);
  });

  it('grids seeds x lrs x arms with stable ids', () => {
    const specs = cnn.trials(tiny);
    expect(specs).toHaveLength(tiny.seeds * tiny.lrs.length * tiny.arms.length);
    for (const s of specs) expect(s.id).toBe(trialId(s.arm, s.seed, s.params));
  });
});

describe('cnn experiment: a tiny run', () => {
  const trials = runAll(cnn, tiny);

  it('draws its report figures from the run', async () => {
    await expectFigures('cnn', trials, ['accuracy-vs-lr', 'steps-vs-lr', 'curves-at-best-lr']);
  });

  it('records metrics and finite curves for every trial, deterministically', () => {
    expectTrialShape(trials, ['finalTestAccuracy', 'bestTestAccuracy', 'stepsToTarget', 'trained', 'finalTrainLoss'], ['testAccuracy', 'trainLoss']);
    const spec = cnn.trials(tiny)[1];
    expect(cnn.runTrial(spec, tiny, ctx)).toEqual(cnn.runTrial(spec, tiny, ctx));
  });

  it('computes its findings from the trials', () => {
    expectFindings(cnn.findings(trials, tiny), IDS);
    const edited = editTrials(trials, (t) => t.arm === 'none', (t) => (t.metrics.finalTestAccuracy = 0.987));
    const f = finding(cnn.findings(edited, tiny), 'best-accuracy');
    expect(f.values['none.acc']).toBe(0.987);
    expect(f.text).toContain('98.7%');
  });

  it('hands its model to keepModel as a vgg spec that saves and loads back to the same function', () => {
    let kept: { model: Module; arch: ModelArch } | null = null;
    const keep: TrialContext = { ...ctx, keepModel: (model, arch) => (kept = { model, arch }) };
    cnn.runTrial(cnn.trials(tiny).find((s) => s.arm === 'bn')!, tiny, keep);
    expect(kept!.arch.kind).toBe('vgg');
    const dir = mkdtempSync(join(tmpdir(), 'bnlab-cnn-'));
    try {
      const arch = kept!.arch as Extract<ModelArch, { kind: 'vgg' }>;
      saveTrialModel(dir, kept!.model, { ...arch, experiment: 'cnn', trial: 'x', dataset: 'mnist-10k' });
      const { model, info } = loadTrialModel(dir);
      expect(info.kind).toBe('vgg');
      const data = mnist();
      const a = evaluate(kept!.model, data.test, data.inputShape, { limit: 300 });
      const b = evaluate(model, data.test, data.inputShape, { limit: 300 });
      expect(b.accuracy).toBe(a.accuracy);
      expect(b.loss).toBeCloseTo(a.loss, 5);
      // bnlab eval: the dataset must have the image shape the convnet was trained on, not just as many values.
      expect(trialDataset(dir, info).inputShape).toEqual([1, 28, 28]);
      expect(() => trialDataset(dir, { ...info, inputShape: [784] })).toThrow(/samples of shape \[1, 28, 28\], but the vgg was trained on \[784\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A grid where BN trains faster, higher and at higher rates than no norm (the claim), or the reverse with `flip`. */
function grid(flip = false): Trial[] {
  const lrs = [0.1, 0.3, 1];
  const out: Trial[] = [];
  for (let seed = 0; seed < 4; seed++) {
    for (const lr of lrs) {
      for (const arm of ['none', 'bn', 'group', 'layer']) {
        const strong = flip ? arm === 'none' : arm !== 'none';
        // Strong arms: best at 0.3, train at 1. Weak arm: best at 0.1, fails at 1.
        const ok = strong || lr < 1;
        const acc = !ok ? 0.1 : (strong ? (lr === 0.3 ? 0.97 : 0.95) : lr === 0.1 ? 0.93 : 0.9) + wobble(seed, 0.002);
        const steps = !ok ? null : strong ? (lr === 0.3 ? 50 : 100) + 10 * seed : (lr === 0.1 ? 150 : 200) + 10 * seed;
        out.push(synth({ arm, seed, params: { lr }, metrics: { finalTestAccuracy: acc, stepsToTarget: steps, trained: ok ? 1 : 0 } }));
      }
    }
  }
  return out;
}

describe('cnn findings from synthetic trials', () => {
  const c: CnnConfig = { ...cnn.presets.quick, seeds: 4, lrs: [0.1, 0.3, 1] };

  it('support the claim when BN is faster, higher and trains at higher rates', () => {
    const fs = cnn.findings(grid(), c);
    expectFindings(fs, IDS);
    for (const id of IDS) expect(finding(fs, id).verdict, id).toBe('supported');
    const m = finding(fs, 'max-learning-rate');
    expect(m.values['bn.maxLr']).toBe(1);
    expect(m.values['none.maxLr']).toBe(0.3);
    const d = finding(fs, 'best-lr-distance');
    expect(d.values['none.decadesFromBn']).toBeCloseTo(Math.log10(0.1 / 0.3), 3);
    // GroupNorm and LayerNorm match BN here: equivalent within the margin, reported but not deciding.
    const acc = finding(fs, 'best-accuracy');
    const gn = acc.comparisons!.find((x) => x.label.includes('GroupNorm'))!;
    expect(gn.outcome).toBe('equivalent');
    expect(gn.decides).toBe(false);
  });

  it('contradict it when the net without normalization wins', () => {
    const fs = cnn.findings(grid(true), c);
    for (const id of IDS) expect(finding(fs, id).verdict, id).toBe('contradicted');
  });

  it('call the max learning rate inconclusive when both arms train at the top of the grid', () => {
    const all = grid().map((t) => ({ ...t, metrics: { ...t.metrics, trained: 1 } }));
    expect(finding(cnn.findings(all, c), 'max-learning-rate').verdict).toBe('inconclusive');
  });

  it('say what is missing when BN or no norm did not run', () => {
    const fs = cnn.findings(grid().filter((t) => t.arm !== 'none'), { ...c, arms: ['bn', 'group', 'layer'] });
    for (const f of fs) expect(f.verdict).toBe('inconclusive');
  });
});
