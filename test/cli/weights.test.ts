// The compiled CLI: bnlab run --save-weights, then inspect, export (checked in onnxruntime-node) and eval on the saved trial.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadTrialModel } from '../../src/lab/saved-model.js';
import { randn } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/rng.js';
import { noGrad } from '../../src/autograd/grad-mode.js';

const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

function bnlab(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('saved weights from the command line', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bnlab-weights-'));
  const run = join(cwd, 'run');
  const trial = join(run, 'trials', 'bn-seed=0');

  it('bnlab run fig1 --save-weights keeps model.safetensors + model.json per trial (on worker threads)', () => {
    const r = bnlab(['run', 'fig1', '--tiny', '--save-weights', '--jobs', '2', '--out', run, '--no-report', '--progress', 'silent'], cwd);
    expect(r.code, r.stderr).toBe(0);
    for (const t of ['bn-seed=0', 'bn-seed=1', 'plain-seed=0', 'plain-seed=1']) {
      expect(existsSync(join(run, 'trials', t, 'model.safetensors')), t).toBe(true);
    }
    const info = JSON.parse(readFileSync(join(trial, 'model.json'), 'utf8')) as { spec: { norm: string }; inputShape: number[]; trial: string };
    expect(info).toMatchObject({ spec: { norm: 'bn' }, inputShape: [1, 28, 28], trial: 'bn|seed=0' });
  });

  it('bnlab inspect prints tensors and BN statistics of the saved file', () => {
    const r = bnlab(['inspect', join(trial, 'model.safetensors')], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2\.num_batches_tracked\s+I64\s+\[\]/);
    expect(r.stdout).toMatch(/BatchNorm layers \(3\):/);
    expect(r.stdout).toMatch(/running mean \[.*\], running var \[.*\], gamma \[/);
  });

  it('bnlab export --onnx (plain and --fold-bn) gives bnlab eval outputs in onnxruntime-node; inspect reads the .onnx', async () => {
    const { model } = loadTrialModel(trial);
    const x = randn([9, 1, 28, 28], { rng: new Rng(1) });
    const expected = noGrad(() => model.forward(x)).data;
    for (const fold of [false, true]) {
      const out = join(cwd, fold ? 'folded.onnx' : 'model.onnx');
      const r = bnlab(['export', trial, '--onnx', out, ...(fold ? ['--fold-bn'] : [])], cwd);
      expect(r.code, r.stderr).toBe(0);
      const s = await ort.InferenceSession.create(readFileSync(out));
      const y = (await s.run({ input: new ort.Tensor('float32', x.data.slice(), [9, 1, 28, 28]) })).output.data as Float32Array;
      let d = 0;
      for (let i = 0; i < y.length; i++) d = Math.max(d, Math.abs(y[i] - expected[i]));
      expect(d).toBeLessThanOrEqual(1e-5);
    }
    const r = bnlab(['inspect', join(cwd, 'model.onnx')], cwd);
    expect(r.stdout).toMatch(/nodes: .*BatchNormalization x3/);
  });

  it('bnlab eval prints eval-mode and train-mode accuracy and the gap', () => {
    const r = bnlab(['eval', trial, '--batch-size', '30'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/eval mode .*accuracy \d+\.\d+%, loss/);
    expect(r.stdout).toMatch(/train mode \(batch statistics, batch 30\).*accuracy \d+\.\d+%/);
    expect(r.stdout).toMatch(/gap \(train - eval\): accuracy -?\d+\.\d+ points/);
  });

  it('bad input: one `bnlab: message` line naming the file, exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['inspect', join(cwd, 'nope.safetensors')], /^bnlab: .*nope\.safetensors: cannot be read \(ENOENT\)/],
      [['inspect', join(run, 'config.json')], /^bnlab: .*config\.json: header length \d+ bytes (runs past the end|is over)/],
      [['export', run, '--onnx', join(cwd, 'x.onnx')], /^bnlab: .*model\.json: not found \(was the run made with --save-weights\?/],
      [['export', trial, '--onnx', join(cwd, 'x.onnx'), '--opset', '12'], /^bnlab: exportOnnx: opset must be an integer from 15 to 21, got 12/],
    ];
    for (const [args, re] of cases) {
      const r = bnlab(args, cwd);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
