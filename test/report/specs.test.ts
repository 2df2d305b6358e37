// Figure builders: each experiment's figures from synthetic fixtures compile to SVG without Vega warnings; missing data is skipped, not fatal.
import { describe, expect, it } from 'vitest';
import { figuresFor } from '../../src/report/specs/index.js';
import { decorate, toSvg } from '../../src/report/render.js';
import type { Figure } from '../../src/report/figure.js';
import type { Results } from '../../src/lab/results.js';
import { EXPECTED_FIGURES as EXPECTED, FIXTURES, fig1, unknown } from './fixtures.js';

const view = (r: Results) => ({ results: r, trials: r.trials });

describe('figure builders', () => {
  for (const [name, make] of Object.entries(FIXTURES)) {
    it(`${name}: draws ${EXPECTED[name].join(', ')} with titles, captions with seeds, and no Vega warnings`, async () => {
      const out = figuresFor(view(make()));
      const skipped = out.filter((f) => f.kind === 'skipped');
      expect(skipped.map((s) => `${s.id}: ${s.kind === 'skipped' ? s.reason : ''}`)).toEqual([]);
      const figs = out.filter((f): f is Figure => f.kind === 'figure');
      expect(figs.map((f) => f.id)).toEqual(EXPECTED[name]);
      for (const f of figs) {
        expect(f.title.length).toBeGreaterThan(10);
        expect(f.caption).toMatch(/\d+(–\d+)? seeds?/);
        // Every caption names how its intervals were made (or that none is drawn).
        expect(f.caption).toMatch(/Student t|bootstrap|no interval/);
        const warnings: string[] = [];
        const svg = await toSvg(decorate(f, `bnlab run ${name}`), warnings);
        expect(warnings).toEqual([]);
        expect(svg).toMatch(/^<svg/);
        // Drawn: data marks (paths) and text (title, axes, legend); the reproduce line is in the SVG too.
        expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(3);
        expect(svg).toContain(`bnlab run ${name}`);
        expect(svg).toContain(`>${f.title.split(' ')[0]}`);
      }
    });
  }

  it('skips a figure whose curves are missing, with the reason, and keeps the others', () => {
    const r = fig1();
    for (const t of r.trials) for (const k of Object.keys(t.curves)) if (k.startsWith('unit')) delete t.curves[k];
    const out = figuresFor(view(r));
    expect(out.map((f) => [f.id, f.kind])).toEqual([
      ['accuracy', 'figure'],
      ['percentiles', 'skipped'],
    ]);
    const s = out[1];
    expect(s.kind === 'skipped' && s.reason).toMatch(/unit0\.p15/);
  });

  it('falls back to one generic figure per curve for an unknown experiment', () => {
    const out = figuresFor(view(unknown()));
    expect(out.map((f) => f.kind)).toEqual(['figure', 'figure']);
    expect(out.map((f) => f.title)).toEqual(['Widget loss (mean ± 95% CI over seeds)', 'Gadget rate (mean ± 95% CI over seeds)']);
  });

  it('falls back to generic figures when a known experiment has none of its data', () => {
    const r = unknown();
    r.experiment = 'lr';
    const out = figuresFor(view(r));
    expect(out.filter((f) => f.kind === 'skipped').map((f) => f.id)).toEqual(['accuracy-vs-lr', 'steps-vs-lr']);
    expect(out.filter((f) => f.kind === 'figure')).toHaveLength(2);
  });

  it('survives empty runs and trials without curves', () => {
    const r = fig1();
    r.trials = [];
    expect(() => figuresFor(view(r))).not.toThrow();
    expect(figuresFor(view(r)).every((f) => f.kind === 'skipped')).toBe(true);
  });

  it('plots a series whose every seed diverged at once (one point, NaN elsewhere)', async () => {
    const r = FIXTURES.scales();
    const loss = figuresFor(view(r)).find((f) => f.id === 'loss-curves');
    expect(loss?.kind).toBe('figure');
    const svg = await toSvg(decorate(loss as Figure, ''));
    expect(svg).toContain('raw');
  });
});

describe('long curves', () => {
  it('are thinned to at most ~400 points per series, keeping the last point', async () => {
    const { curveBand, thin } = await import('../../src/report/group.js');
    const long: [number, number][] = Array.from({ length: 5000 }, (_, i) => [i, i / 5000]);
    const rows = curveBand({ arm: 'bn', params: {}, label: 'bn', trials: [{ ...fig1().trials[0], curves: { c: long } }] }, 'c');
    expect(rows.length).toBeLessThanOrEqual(401);
    expect(rows[rows.length - 1].x).toBe(4999);
    expect(thin([1, 2, 3], 5)).toEqual([1, 2, 3]);
  });
});
