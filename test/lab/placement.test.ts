// Tests of the `placement` experiment: schema refusals, the nets of each placement, a tiny run end to end, findings from synthetic trials.
import { describe, expect, it } from 'vitest';
import { cnnOf, mlpOf, placement, type PlacementConfig } from '../../src/lab/experiments/placement.js';
import { trialId, type ModelArch, type TrialContext } from '../../src/lab/experiment.js';
import type { Trial } from '../../src/lab/results.js';
import { buildMlp } from '../../src/lab/models.js';
import { vgg } from '../../src/nn/models.js';
import { BatchNorm1d, BatchNorm2d } from '../../src/nn/norm/batchnorm.js';
import { Linear, Conv2d } from '../../src/nn/layers.js';
import { ctx, expectTrialShape, finding, parseErrors, runAll } from './mlp-harness.js';
import { expectFigures, expectFindings, ramp, synth, wobble } from './convnet-harness.js';

const tiny = placement.presets.tiny;
const IDS = ['speed', 'final-accuracy', 'before-vs-after'];

describe('placement experiment: config and nets', () => {
  it('has valid presets and grids seeds x nets x activations x placements', () => {
    for (const p of ['tiny', 'quick', 'full'] as const) expect(placement.schema.parse(placement.presets[p])).toEqual(placement.presets[p]);
    const specs = placement.trials(tiny);
    expect(specs).toHaveLength(tiny.seeds * 2 * 2 * 4);
    for (const s of specs) expect(s.id).toBe(trialId(s.arm, s.seed, s.params));
  });

  it('refuses configs that cannot build, naming the field and the reason', () => {
    expect(parseErrors(placement.schema, { ...tiny, cnnWidths: [4, 4, 4, 4] }).join()).toMatch(/cnnWidths: every placement's convnet cannot be built: imageSize: 28 cannot be max-pooled/);
    // Only the MLP: the convnet's widths do not matter.
    expect(parseErrors(placement.schema, { ...tiny, nets: ['mlp'], cnnWidths: [4, 4, 4, 4] })).toEqual([]);
    expect(parseErrors(placement.schema, { ...tiny, placements: ['before', 'middle'] }).join()).toMatch(/placements\.1/);
    expect(parseErrors(placement.schema, { ...tiny, lrs: { mlp: { relu: 0.1 }, cnn: { relu: 0.1, sigmoid: 1 } } }).join()).toMatch(/lrs\.mlp\.sigmoid/);
    expect(parseErrors(placement.schema, { ...tiny, activations: ['tanh'] }).join()).toMatch(/activations\.0/);
  });

  it('puts BN before or after the activation, on the inputs only, or nowhere', () => {
    const norms1d = (p: 'none' | 'before' | 'after' | 'input') =>
      buildMlp(mlpOf(tiny, p, 'sigmoid', 784, 10), 0).model.layers.map((l) => l.constructor.name);
    expect(norms1d('before').slice(1, 4)).toEqual(['Linear', 'BatchNorm1d', 'Tap']);
    expect(norms1d('after').slice(1, 5)).toEqual(['Linear', 'Tap', 'Sigmoid', 'BatchNorm1d']);
    expect(norms1d('input').slice(0, 3)).toEqual(['Flatten', 'BatchNorm1d', 'Linear']);
    expect(buildMlp(mlpOf(tiny, 'none', 'relu', 784, 10), 0).model.layers.some((l) => l instanceof BatchNorm1d)).toBe(false);
    // The hidden Linear keeps its bias where no BN right after it replaces it.
    expect(buildMlp(mlpOf(tiny, 'after', 'relu', 784, 10), 0).linears[0].bias).not.toBeNull();
    expect(buildMlp(mlpOf(tiny, 'before', 'relu', 784, 10), 0).linears[0].bias).toBeNull();
    const cnnLayers = (p: 'none' | 'before' | 'after' | 'input') => vgg(cnnOf(tiny, p, 'relu'), 0).layers;
    expect(cnnLayers('input').filter((l) => l instanceof BatchNorm2d).length).toBe(1);
    expect(cnnLayers('before').filter((l) => l instanceof BatchNorm2d).length).toBe(tiny.cnnWidths.length);
    const after = cnnLayers('after');
    const i = after.findIndex((l) => l instanceof Conv2d);
    expect(after[i + 2]).toBeInstanceOf(BatchNorm2d);
    expect(after.filter((l) => l instanceof Linear).length).toBe(1);
  });
});

describe('placement experiment: a tiny run', () => {
  const trials = runAll(placement, tiny);

  it('draws its report figures from the run', async () => {
    await expectFigures('placement', trials, ['accuracy-by-placement', 'curves-by-placement']);
  });

  it('records metrics and curves for every trial and computes its findings', () => {
    expectTrialShape(trials, ['finalTestAccuracy', 'trained'], ['testAccuracy', 'trainLoss']);
    expectFindings(placement.findings(trials, tiny), IDS);
  });

  it('keeps MLPs as mlp specs and convnets as vgg specs', () => {
    const kinds: ModelArch['kind'][] = [];
    const keep: TrialContext = { ...ctx, keepModel: (_m, arch) => kinds.push(arch.kind) };
    const specs = placement.trials(tiny);
    placement.runTrial(specs.find((s) => s.params.net === 'mlp')!, tiny, keep);
    placement.runTrial(specs.find((s) => s.params.net === 'cnn')!, tiny, keep);
    expect(kinds).toEqual(['mlp', 'vgg']);
  });
});

/**
 * 3 seeds per (net, activation, placement): no BN climbs to 90% by step 300, every BN placement to 96% by step 100;
 * `afterBehind` puts BN-after 5 points below BN-before (else within 0.1 point).
 */
function grid(afterBehind: boolean): Trial[] {
  const out: Trial[] = [];
  for (let seed = 0; seed < 3; seed++) {
    for (const net of ['mlp', 'cnn']) {
      for (const activation of ['relu', 'sigmoid']) {
        for (const arm of ['none', 'before', 'after', 'input']) {
          const top = (arm === 'none' ? 0.9 : arm === 'after' && afterBehind ? 0.91 : 0.96) + wobble(seed, 0.001);
          const curve = ramp(0.1, top, 300, 25, arm === 'none' ? 300 : 100 + 25 * seed);
          const metrics = { finalTestAccuracy: top, trained: 1 };
          out.push(synth({ arm, seed, params: { net, activation }, metrics, curves: { testAccuracy: curve } }));
        }
      }
    }
  }
  return out;
}

describe('placement findings from synthetic trials', () => {
  const c: PlacementConfig = { ...placement.presets.quick, seeds: 3, steps: 300 };

  it('support the claims when BN before is faster and higher than no BN and as good as BN after', () => {
    const fs = placement.findings(grid(false), c);
    expectFindings(fs, IDS);
    for (const id of IDS) expect(finding(fs, id).verdict, id).toBe('supported');
    expect(finding(fs, 'final-accuracy').values['cnn.sigmoid.before']).toBeCloseTo(0.96, 2);
  });

  it('contradict "before is at least as good" when BN after is ahead everywhere', () => {
    const flipped = grid(true).map((t) => ({ ...t, arm: t.arm === 'after' ? 'before' : t.arm === 'before' ? 'after' : t.arm }));
    const f = finding(placement.findings(flipped, c), 'before-vs-after');
    expect(f.verdict).toBe('contradicted');
    expect(f.text).toContain('after ahead');
  });

  it('report mixed results per net and activation', () => {
    // Only the convnet has BN-after behind: the MLP groups are 'ok', the convnet groups 'before ahead' (also ok).
    const swap: Record<string, string> = { before: 'after', after: 'before' };
    const ts = grid(true).map((t) => (t.params.net === 'mlp' && t.arm in swap ? { ...t, arm: swap[t.arm] } : t));
    const f = finding(placement.findings(ts, c), 'before-vs-after');
    expect(f.verdict).toBe('mixed');
    expect(f.values['mlp.relu']).toBe('against');
    expect(f.values['cnn.relu']).toBe('ok');
  });
});
