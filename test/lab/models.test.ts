// buildMlp's fusion: BN + activation fused across the Tap, undone while a tap records; numbers bit-identical either way.
import { describe, expect, it } from 'vitest';
import { buildMlp, type MlpSpec } from '../../src/lab/models.js';
import { BatchNormBase } from '../../src/nn/norm/index.js';
import { Identity, Sequential, Sigmoid } from '../../src/nn/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

const spec: MlpSpec = { inputs: 10, hidden: [8, 6], classes: 3, activation: 'sigmoid', norm: 'bn', init: { kind: 'default' } };

/** The model as buildMlp built it, with the fusion undone by hand: the original layers in their slots. */
function unfused(seed: number): Sequential {
  const b = buildMlp(spec, seed);
  const layers = b.model.layers.map((m, i) => {
    const before = b.model.layers[i - 2];
    return m instanceof Identity && before instanceof BatchNormBase ? null : m;
  });
  for (const m of b.model.layers) if (m instanceof BatchNormBase) m.act = null;
  return new Sequential(...layers.map((m) => m ?? new Sigmoid()));
}

describe('buildMlp fuses BatchNorm + activation across its taps', () => {
  it('fuses, keeps the keys of the plain layout, and undoes the fusion only while a tap is enabled', () => {
    const b = buildMlp(spec, 1);
    const bns = b.model.layers.filter((m): m is BatchNormBase => m instanceof BatchNormBase);
    expect(bns.map((m) => m.act)).toEqual(['sigmoid', 'sigmoid']);
    expect(Object.keys(b.model.stateDict())).toEqual(Object.keys(unfused(1).stateDict()));
    b.taps[0].enabled = true;
    expect(bns.map((m) => m.act)).toEqual([null, 'sigmoid']);
    b.taps[0].enabled = false;
    expect(bns.map((m) => m.act)).toEqual(['sigmoid', 'sigmoid']);
  });

  it('trains to the same bits as the unfused layers, with a tap recording the activation input on some steps', () => {
    const b = buildMlp(spec, 2);
    const plain = unfused(2);
    const rng = new Rng(4);
    for (let step = 0; step < 4; step++) {
      const x = new Tensor(new Float32Array(16 * 10).map(() => rng.normal()), [16, 10]);
      const dy = new Float32Array(16 * 3).map(() => rng.normal());
      b.taps[1].enabled = step % 2 === 1;
      const y = b.model.forward(x);
      if (step % 2 === 1) {
        // The tap saw the BN output (the sigmoid's input), which the model then passed through the sigmoid.
        const h = b.taps[1].last!;
        expect(h.op).toBe('BatchNorm1d');
      }
      b.taps[1].enabled = false;
      b.taps[1].last = null;
      const yp = plain.forward(x);
      expect(y.data).toEqual(yp.data);
      y.backward(dy);
      yp.backward(dy);
      for (const m of [b.model, plain]) {
        for (const p of m.parameters()) {
          for (let i = 0; i < p.size; i++) p.data[i] -= 0.1 * p.grad![i];
          p.grad = null;
        }
      }
    }
    const sd = plain.stateDict();
    for (const [k, t] of Object.entries(b.model.stateDict())) expect(t.data, k).toEqual(sd[k].data);
  });
});
