// The browser lab's settings: URL hash round trip, bad hashes (defaults + warnings), presets within range.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, RANGES, decodeHash, encodeHash } from '../../web/src/settings.js';
import { PRESETS, presetSettings } from '../../web/src/presets.js';
import type { Settings } from '../../web/src/protocol.js';

describe('settings hash', () => {
  it('round-trips every setting, including small and odd numbers', () => {
    const s: Settings = {
      ...DEFAULTS, preset: 'fig1', seed: 123456, dataset: 'digits', lr: 0.000123, bnEps: 1e-7, initStd: 3.3, left: 'ghost', right: 'noisy-bn',
      optimizer: 'adam', depth: 10, width: 256, trainShare: 0.9, noise: 0.5,
    };
    const h = encodeHash(s);
    expect(decodeHash(h)).toEqual({ settings: s, warnings: [] });
    expect(decodeHash(`#${h}`).settings).toEqual(s);
  });

  it('gives the defaults for an empty hash, silently', () => {
    expect(decodeHash('')).toEqual({ settings: DEFAULTS, warnings: [] });
    expect(decodeHash('#')).toEqual({ settings: DEFAULTS, warnings: [] });
  });

  it('keeps good keys, defaults bad ones and names key, value and expectation', () => {
    const { settings, warnings } = decodeHash('#lr=0.5&depth=99&act=swish&batch=2.5&foo=1&noise=&seed=0x10&data=moons&std=Infinity');
    expect(settings.lr).toBe(0.5);
    expect(settings.dataset).toBe('moons');
    expect(settings.depth).toBe(DEFAULTS.depth);
    expect(settings.activation).toBe(DEFAULTS.activation);
    expect(settings.batchSize).toBe(DEFAULTS.batchSize);
    expect(settings.noise).toBe(DEFAULTS.noise);
    expect(settings.seed).toBe(DEFAULTS.seed);
    expect(settings.initStd).toBe(DEFAULTS.initStd);
    expect(warnings).toHaveLength(7);
    expect(warnings).toContain(`'depth': '99' is not valid (expected an integer from 1 to 10); using the default ${DEFAULTS.depth}`);
    expect(warnings.find((w) => w.startsWith("'act'"))).toMatch(/'swish'.*one of relu, tanh, sigmoid/);
    expect(warnings.find((w) => w.startsWith("'batch'"))).toMatch(/'2\.5'.*an integer/);
    expect(warnings.find((w) => w.includes('foo'))).toMatch(/unknown setting 'foo'/);
  });

  it('gives every preset settings inside RANGES that survive the hash', () => {
    expect(new Set(PRESETS.map((p) => p.id)).size).toBe(PRESETS.length);
    for (const p of PRESETS) {
      expect(p.claim.length, p.id).toBeGreaterThan(20);
      expect(p.later.length, p.id).toBeGreaterThan(20);
      const s = presetSettings(p.id);
      expect(decodeHash(encodeHash(s)), p.id).toEqual({ settings: s, warnings: [] });
    }
    expect(decodeHash(encodeHash(DEFAULTS)).warnings).toEqual([]);
    expect(Object.keys(RANGES).sort()).toEqual(Object.keys(DEFAULTS).sort());
    expect(() => presetSettings('nope')).toThrow(/unknown preset 'nope'/);
  });
});
