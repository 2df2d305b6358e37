// Weights-file inspection: BN statistics and warnings from safetensors and from exported ONNX graphs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectOnnx, inspectSafetensors, GAMMA_NEAR_ZERO } from '../../src/io/inspect.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { exportOnnx } from '../../src/io/onnx.js';
import { WeightsFileError } from '../../src/io/errors.js';
import { loadWeights } from '../../src/io/safetensors-file.js';
import { cnnNet, fixturePath } from './helpers.js';

describe('inspect', () => {
  it('safetensors from PyTorch: dtypes, shapes and one BN summary per layer', () => {
    const r = inspectSafetensors(readFileSync(fixturePath('io_fig1.safetensors')), 'fig1.safetensors');
    expect(r.info).toEqual({ format: 'pt', arch: 'fig1' });
    expect(r.tensors.find((t) => t.name === '1.weight')).toMatchObject({ dtype: 'F32', shape: [100, 784] });
    expect(r.tensors.find((t) => t.name === '2.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [], min: 30 });
    expect(r.bn.map((b) => [b.layer, b.channels, b.numBatchesTracked])).toEqual([['2', 100, 30], ['6', 100, 30], ['10', 100, 30]]);
    expect(r.bn[0].variance[0]).toBeGreaterThan(0);
  });

  it('flags gammas near 0 and running variances near 0, with the eval gain they cause', () => {
    const m = cnnNet(1);
    const sd = m.stateDict();
    sd['1.weight'].data.set([0, 1e-4, 1, 1]);
    sd['1.running_var'].data.set([1, 1, 1e-6, 1]);
    const r = inspectSafetensors(encodeSafetensors(sd), 'x');
    expect(r.bn[0].gammaNearZero).toEqual([0, 1]);
    expect(r.bn[0].varNearZero).toEqual([2]);
    expect(r.bn[0].maxGain).toBeCloseTo(1 / Math.sqrt(1e-6 + 1e-5), 3);
    expect(GAMMA_NEAR_ZERO).toBe(1e-3);
  });

  it('an exported ONNX graph: opset, inputs, node counts, and the BN statistics of its BatchNormalization nodes', () => {
    const m = cnnNet();
    loadWeights(m, fixturePath('io_cnn.safetensors'));
    const st = inspectSafetensors(readFileSync(fixturePath('io_cnn.safetensors')), 'cnn');
    const r = inspectOnnx(exportOnnx(m, { inputShape: [1, 1, 12, 12] }), 'cnn.onnx');
    expect(r.info.opset).toBe('ai.onnx 17');
    expect(r.info.inputs).toBe('input [N, 1, 12, 12]');
    expect(r.info.nodes).toContain('BatchNormalization x2');
    expect(r.bn.map((b) => [b.channels, b.mean, b.variance])).toEqual(st.bn.map((b) => [b.channels, b.mean, b.variance]));
  });

  it('a file that is not ONNX is a WeightsFileError naming it', () => {
    expect(() => inspectOnnx(new Uint8Array([0xff, 0xff, 0xff]), 'junk.onnx')).toThrow(WeightsFileError);
    expect(() => inspectOnnx(new Uint8Array([0xff, 0xff, 0xff]), 'junk.onnx')).toThrow(/^junk\.onnx: is not an ONNX model/);
  });
});
