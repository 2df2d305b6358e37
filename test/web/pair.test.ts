// The browser lab's engine side: two nets from one seed, same batches, snapshots, divergence, and the worker's session loop.
import { describe, expect, it } from 'vitest';
import { makeData } from '../../web/src/data/index.js';
import { DEFAULTS } from '../../web/src/settings.js';
import { presetSettings } from '../../web/src/presets.js';
import type { FromWorker, NetSnapshot, Settings } from '../../web/src/protocol.js';
import { Pair } from '../../web/src/worker/pair.js';
import { Session } from '../../web/src/worker/session.js';

const noDigits = () => Promise.reject(new Error('no digits in this test'));
const view = { evalMode: false, evalBatch: 32 };

async function pairOf(over: Partial<Settings> = {}): Promise<Pair> {
  const s = { ...DEFAULTS, ...over };
  return new Pair(s, await makeData(s, noDigits));
}

const weights = (p: Pair, side: 0 | 1) => p.sides[side].net.linears.map((l) => Array.from(l.weight.data));

describe('Pair', () => {
  it('starts both nets from the same weights whatever the normalization', async () => {
    for (const right of ['bn-before', 'bn-after', 'layer', 'group', 'noisy-bn'] as const) {
      const p = await pairOf({ left: 'none', right, init: 'normal', initStd: 0.3 });
      expect(weights(p, 1), right).toEqual(weights(p, 0));
    }
  });

  it("places 'bn-after' after the activation, where the Linear keeps its bias", async () => {
    const p = await pairOf({ left: 'bn-before', right: 'bn-after', depth: 1, dropout: 0.1 });
    const names = (i: 0 | 1) => p.sides[i].net.model.layers.map((m) => m.constructor.name);
    // buildMlp fuses BN + ReLU (fuseBatchNormAct): the BN carries the activation and the ReLU's slot is an Identity.
    expect(names(0)).toEqual(['Flatten', 'Linear', 'BatchNorm1d', 'Tap', 'Identity', 'Dropout', 'Linear']);
    expect(names(1)).toEqual(['Flatten', 'Linear', 'Tap', 'ReLU', 'BatchNorm1d', 'Dropout', 'Linear']);
    expect(p.sides[0].net.linears[0].bias).toBeNull();
    expect(p.sides[1].net.linears[0].bias).not.toBeNull();
    expect(p.sides[1].net.firstBn?.index).toBe(4);
  });

  it('feeds both nets the same batches in the same order (equal nets stay equal, dropout included)', async () => {
    const p = await pairOf({ left: 'none', right: 'none', dropout: 0.3 });
    p.train(25);
    expect(weights(p, 1)).toEqual(weights(p, 0));
    const [a, b] = p.snapshot(true, view);
    expect(b.trainLoss).toBe(a.trainLoss);
  });

  it('gives the same run whether steps come in one frame or several, with snapshots between', async () => {
    const a = await pairOf({ left: 'noisy-bn', right: 'ghost', dropout: 0.2, ghostBatch: 5 });
    const b = await pairOf({ left: 'noisy-bn', right: 'ghost', dropout: 0.2, ghostBatch: 5 });
    a.train(20);
    b.train(7);
    b.snapshot(true, { evalMode: true, evalBatch: 4 });
    b.train(13);
    expect(weights(b, 0)).toEqual(weights(a, 0));
    expect(weights(b, 1)).toEqual(weights(a, 1));
  });

  it('lowers both training losses on the default 2-D preset within 300 steps', async () => {
    const p = await pairOf(presetSettings('default'));
    const first = p.snapshot(true, view);
    p.train(300);
    const later = p.snapshot(true, view);
    for (const i of [0, 1]) {
      expect(later[i].diverged).toBeNull();
      expect(later[i].trainLoss).toBeLessThan(first[i].trainLoss);
      expect(later[i].testAcc).toBeGreaterThan(0.7);
    }
  });

  it('reports per-layer percentiles, gradient norms, a boundary, and BN units that change', async () => {
    const p = await pairOf({ left: 'none', right: 'bn-before' });
    p.train(5);
    const [plain, bn1] = p.snapshot(true, view);
    expect(plain.bn).toBeNull();
    expect(bn1.layers).toHaveLength(DEFAULTS.depth);
    for (const l of bn1.layers) {
      expect(l.p15).toBeLessThanOrEqual(l.p50);
      expect(l.p50).toBeLessThanOrEqual(l.p85);
      expect(l.gradNorm).toBeGreaterThan(0);
    }
    expect(bn1.boundary?.p).toHaveLength(48 * 48);
    expect(bn1.confusion).toBeNull();
    const units = bn1.bn!;
    expect(units.batchMean).toHaveLength(8);
    expect(units.runningStd.every((v) => v > 0)).toBe(true);
    p.train(20);
    const bn2 = p.snapshot(false, view)[1].bn!;
    expect(bn2.runningMean).not.toEqual(units.runningMean);
    expect(bn2.batchMean).not.toEqual(units.batchMean);
  });

  it('measures the eval gap only when asked', async () => {
    const p = await pairOf({ left: 'layer', right: 'bn-before' });
    p.train(30);
    expect(p.snapshot(true, view)[1].evalGap).toBeNull();
    const [ln, bn] = p.snapshot(true, { evalMode: true, evalBatch: 3 });
    expect(bn.evalGap).toMatchObject({ evalBatch: 3 });
    // LayerNorm does not use the batch: train and eval mode agree exactly.
    expect(ln.evalGap!.trainModeAcc).toBe(ln.evalGap!.evalAcc);
  });

  it('stops a diverging net with a message and keeps training the other', async () => {
    const p = await pairOf(presetSettings('scales'));
    p.train(40);
    const [plain, bn] = p.snapshot(true, view);
    expect(plain.diverged).toMatch(/loss became (NaN|Infinity|-Infinity) at step \d+ \(learning rate 0\.1\)/);
    expect(bn.diverged).toBeNull();
    expect(p.step).toBe(40);
  });

  it('reports BN on a batch of one as a stopped net, not a crash', async () => {
    const p = await pairOf({ left: 'bn-before', right: 'group', batchSize: 1 });
    p.train(3);
    const [bn, gn] = p.snapshot(true, view);
    expect(bn.diverged).toMatch(/bn-before cannot train on a batch of one sample: Expected more than 1 value per channel/);
    expect(gn.diverged).toBeNull();
  });
});

describe('Session', () => {
  const immediate = (fn: () => void) => void setTimeout(fn, 0);
  /** Waits (polling) until pred holds; the loop's timing depends on the machine's load. */
  const until = async (pred: () => boolean, ms = 5000) => {
    for (const t0 = Date.now(); !pred(); ) {
      if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const snapshots = (msgs: FromWorker[]) => msgs.filter((m): m is Extract<FromWorker, { type: 'snapshot' }> => m.type === 'snapshot');

  it('resets, plays, pauses and steps, posting ready and snapshots', async () => {
    const msgs: FromWorker[] = [];
    const s = new Session((m) => msgs.push(m), noDigits, immediate);
    await s.handle({ type: 'reset', settings: { ...DEFAULTS, stepsPerFrame: 5 }, backend: 'ts' });
    expect(msgs[0]).toMatchObject({ type: 'ready', backend: 'ts', inputs: 2, classes: 2 });
    expect(snapshots(msgs)[0]).toMatchObject({ step: 0, playing: false });
    await s.handle({ type: 'step', steps: 12 });
    await until(() => snapshots(msgs).at(-1)!.step === 12);
    expect(snapshots(msgs).at(-1)!.playing).toBe(false);
    await s.handle({ type: 'play' });
    await until(() => snapshots(msgs).at(-1)!.step > 40);
    expect(snapshots(msgs).at(-1)!.playing).toBe(true);
    await s.handle({ type: 'pause' });
    const paused = snapshots(msgs).at(-1)!;
    expect(paused.playing).toBe(false);
    expect(paused.step).toBeGreaterThan(12);
    await new Promise((r) => setTimeout(r, 30));
    expect(snapshots(msgs).at(-1)!.step).toBe(paused.step);
    const nets: NetSnapshot[] = paused.nets;
    expect(nets.map((n) => n.norm)).toEqual([DEFAULTS.left, DEFAULTS.right]);
  });

  it('posts an error message when the digits cannot be loaded', async () => {
    const msgs: FromWorker[] = [];
    const s = new Session((m) => msgs.push(m), noDigits, immediate);
    await s.handle({ type: 'reset', settings: { ...DEFAULTS, dataset: 'digits' }, backend: 'ts' });
    expect(msgs).toEqual([{ type: 'error', message: 'no digits in this test' }]);
  });
});
