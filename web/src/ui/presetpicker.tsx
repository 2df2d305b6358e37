// The preset picker: one preset per claim of the lab, with what the claim says and what later work found.
import type { Settings } from '../protocol.js';
import { PRESETS } from '../presets.js';
import { DEFAULTS, encodeHash } from '../settings.js';

/** A preset's full settings: the defaults, overridden by the preset. */
export function presetSettings(id: string): Settings {
  const p = PRESETS.find((x) => x.id === id);
  return { ...DEFAULTS, ...(p?.settings ?? {}), preset: id };
}

export function PresetPicker(props: { settings: Settings; onPick: (id: string) => void }) {
  const { settings } = props;
  const current = PRESETS.find((p) => p.id === settings.preset);
  const changed = current !== undefined && encodeHash(presetSettings(current.id)) !== encodeHash(settings);
  return (
    <div class="preset">
      <label class="preset-pick">
        <span>Preset</span>
        <select
          id="preset"
          name="preset"
          data-testid="preset"
          value={current ? current.id : ''}
          onChange={(e) => e.currentTarget.value && props.onPick(e.currentTarget.value)}
        >
          {!current && <option value="">{settings.preset ? `custom (${settings.preset})` : 'custom'}</option>}
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id} title={p.claim}>
              {p.title}
            </option>
          ))}
        </select>
        {changed && <span class="badge" title="settings changed since the preset was picked">modified</span>}
      </label>
      {current ? (
        <p class="claim" data-testid="preset-explanation">
          <span class="tag">claim</span> {current.claim} <span class="tag later">later</span> {current.later}
        </p>
      ) : (
        <p class="claim muted" data-testid="preset-explanation">
          Pick a preset to see a claim of the BN paper play out, or set up your own comparison.
        </p>
      )}
    </div>
  );
}
