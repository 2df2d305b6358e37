// The control panel: one input per setting, each named (id, name, data-testid) after its Settings key.
import { memo } from 'preact/compat';
import { useState } from 'preact/hooks';
import { RANGES } from '../settings.js';
import type { NormChoice, Settings } from '../protocol.js';

type Key = keyof Settings;
type NumKey = { [K in Key]: Settings[K] extends number ? K : never }[Key];
type StrKey = Exclude<Key, NumKey>;

/** How a number is picked: a slider on a log or linear scale (integers rounded), next to a box that takes exact values. */
interface NumSpec {
  key: NumKey;
  label: string;
  scale: 'log' | 'lin';
  int?: boolean;
  min: number;
  max: number;
  step?: number;
  hint?: string;
}
interface SelectSpec {
  key: StrKey;
  label: string;
  options: [string, string][];
  hint?: string;
}
type Spec = NumSpec | SelectSpec;

/** Shorter than the views' NORM_LABELS, to fit the panel. */
const NORM_OPTIONS: [NormChoice, string][] = [
  ['none', 'None'],
  ['bn-before', 'BN before activation'],
  ['bn-after', 'BN after activation'],
  ['renorm', 'Batch Renorm'],
  ['ghost', 'Ghost BN'],
  ['group', 'GroupNorm'],
  ['layer', 'LayerNorm'],
  ['noisy-bn', 'Noisy BN'],
];

/** The panel's groups. min/max here are fallbacks: the ranges of settings.ts win where it has them. */
const GROUPS: { title: string; specs: Spec[] }[] = [
  {
    title: 'Normalization',
    specs: [
      { key: 'left', label: 'Left network', options: NORM_OPTIONS },
      { key: 'right', label: 'Right network', options: NORM_OPTIONS },
      {
        key: 'bnMomentum', label: 'BN momentum', scale: 'lin', min: 0, max: 1, step: 0.01,
        hint: 'weight of the new batch in the running statistics',
      },
      { key: 'bnEps', label: 'BN eps', scale: 'log', min: 1e-8, max: 1 },
      { key: 'ghostBatch', label: 'Ghost batch', scale: 'log', int: true, min: 1, max: 256, hint: 'Ghost BN: examples per virtual batch' },
      { key: 'groups', label: 'Groups', scale: 'log', int: true, min: 1, max: 64, hint: 'GroupNorm: groups of units' },
    ],
  },
  {
    title: 'Training',
    specs: [
      { key: 'lr', label: 'Learning rate', scale: 'log', min: 1e-4, max: 10 },
      {
        key: 'optimizer',
        label: 'Optimizer',
        options: [
          ['sgd', 'SGD'],
          ['momentum', 'SGD + momentum'],
          ['adam', 'Adam'],
        ],
      },
      { key: 'batchSize', label: 'Batch size', scale: 'log', int: true, min: 1, max: 512 },
      { key: 'seed', label: 'Seed', scale: 'lin', int: true, min: 0, max: 2 ** 31 - 1, hint: 'same seed, same run' },
      { key: 'stepsPerFrame', label: 'Steps/frame', scale: 'log', int: true, min: 1, max: 100 },
    ],
  },
  {
    title: 'Network',
    specs: [
      { key: 'depth', label: 'Hidden layers', scale: 'lin', int: true, min: 1, max: 10, step: 1 },
      { key: 'width', label: 'Width', scale: 'log', int: true, min: 1, max: 256 },
      {
        key: 'activation',
        label: 'Activation',
        options: [
          ['relu', 'ReLU'],
          ['tanh', 'tanh'],
          ['sigmoid', 'sigmoid'],
        ],
      },
      {
        key: 'init',
        label: 'Weight init',
        options: [
          ['normal', 'N(0, s²)'],
          ['xavier', 'Xavier'],
          ['kaiming', 'Kaiming'],
        ],
      },
      { key: 'initStd', label: 'Init std s', scale: 'log', min: 1e-3, max: 10, hint: 'used by N(0, s²)' },
      { key: 'dropout', label: 'Dropout', scale: 'lin', min: 0, max: 0.9, step: 0.05 },
    ],
  },
  {
    title: 'Data',
    specs: [
      {
        key: 'dataset',
        label: 'Dataset',
        options: [
          ['circle', 'Circle'],
          ['xor', 'XOR'],
          ['gaussians', 'Gaussians'],
          ['spiral', 'Spiral'],
          ['moons', 'Moons'],
          ['scales', 'Scales (features 1 … 10⁴)'],
          ['digits', 'Digits (MNIST)'],
        ],
      },
      { key: 'noise', label: 'Noise', scale: 'lin', min: 0, max: 0.5, step: 0.01 },
      { key: 'trainShare', label: 'Train share', scale: 'lin', min: 0.1, max: 0.9, step: 0.05, hint: 'the rest is the test split' },
    ],
  },
];

type Range = { min?: number; max?: number; options?: readonly string[] };
const rangeOf = (key: Key): Range => ((RANGES as unknown as Partial<Record<Key, Range>>)[key] ?? {}) as Range;

function bounds(spec: NumSpec): [number, number] {
  const r = rangeOf(spec.key);
  return [r.min ?? spec.min, r.max ?? spec.max];
}

/** Round to what a slider should produce: integers, or 3 significant digits on a log scale. */
function tidy(v: number, spec: NumSpec): number {
  if (spec.int) return Math.round(v);
  if (spec.scale === 'log') return Number(v.toPrecision(3));
  const step = spec.step ?? 0.01;
  return Number((Math.round(v / step) * step).toFixed(6));
}

function NumberControl(props: { spec: NumSpec; value: number; onChange: (key: Key, v: number) => void }) {
  const { spec, value } = props;
  const [min, max] = bounds(spec);
  const [draft, setDraft] = useState<string | null>(null);
  const log = spec.scale === 'log' && min > 0;
  const toSlider = (v: number) => (log ? Math.log10(Math.max(min, v)) : v);
  const fromSlider = (s: number) => tidy(log ? 10 ** s : s, spec);
  const valid = (v: number) => Number.isFinite(v) && v >= min && v <= max && (!spec.int || Number.isInteger(v));
  const wide = spec.key === 'seed';

  return (
    <div class={`control ${draft !== null && !valid(Number(draft)) ? 'invalid' : ''}`} title={spec.hint}>
      <label for={spec.key}>{spec.label}</label>
      <div class="control-row">
        {!wide && (
          <input
            type="range"
            aria-label={`${spec.label} slider`}
            data-testid={`${spec.key}-slider`}
            min={toSlider(min)}
            max={toSlider(max)}
            step={log ? 0.01 : (spec.step ?? (spec.int ? 1 : (max - min) / 100))}
            value={toSlider(value)}
            onInput={(e) => props.onChange(spec.key, fromSlider(Number(e.currentTarget.value)))}
          />
        )}
        <input
          type="text"
          inputMode="decimal"
          class={wide ? 'num wide' : 'num'}
          id={spec.key}
          name={spec.key}
          data-testid={spec.key}
          value={draft ?? String(value)}
          onInput={(e) => {
            const text = e.currentTarget.value;
            setDraft(text);
            const v = Number(text);
            if (text.trim() !== '' && valid(v)) props.onChange(spec.key, v);
          }}
          onBlur={() => setDraft(null)}
          onKeyDown={(e) => e.key === 'Enter' && setDraft(null)}
        />
        {wide && (
          <button
            type="button"
            class="icon"
            data-testid="seed-random"
            title="a new random seed"
            onClick={() => props.onChange('seed', Math.floor(Math.random() * 1e6))}
          >
            ⟳
          </button>
        )}
      </div>
    </div>
  );
}

function SelectControl(props: { spec: SelectSpec; value: string; onChange: (key: Key, v: string) => void }) {
  const { spec } = props;
  const allowed = rangeOf(spec.key).options;
  const options = allowed ? spec.options.filter(([v]) => allowed.includes(v)) : spec.options;
  // Options settings.ts knows and this panel has no label for still show, under their own name.
  for (const v of allowed ?? []) if (!options.some(([o]) => o === v)) options.push([v, v]);
  return (
    <div class="control" title={spec.hint}>
      <label for={spec.key}>{spec.label}</label>
      <select
        id={spec.key}
        name={spec.key}
        data-testid={spec.key}
        value={props.value}
        onChange={(e) => props.onChange(spec.key, e.currentTarget.value)}
      >
        {options.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Every setting but the preset (which has its own picker at the top). */
export const Controls = memo(function Controls(props: {
  settings: Settings;
  onChange: (key: Key, value: number | string) => void;
}) {
  const { settings, onChange } = props;
  return (
    <form class="controls" onSubmit={(e) => e.preventDefault()} aria-label="settings">
      {GROUPS.map((g) => (
        <fieldset key={g.title}>
          <legend>{g.title}</legend>
          {g.specs.map((spec) =>
            'options' in spec ? (
              <SelectControl key={spec.key} spec={spec} value={String(settings[spec.key])} onChange={onChange} />
            ) : (
              <NumberControl key={spec.key} spec={spec} value={settings[spec.key]} onChange={onChange} />
            ),
          )}
        </fieldset>
      ))}
    </form>
  );
});
