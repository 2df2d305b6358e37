// The page's settings live in the URL hash: each change is a history entry, Back/Forward and edited links restart the run.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Settings } from '../protocol.js';
import { decodeHash, encodeHash } from '../settings.js';

/** Slider drags and typing change a setting many times a second: the worker restarts once they settle. */
const RESET_DELAY_MS = 120;
/** Changes to the same control closer together than this share one history entry, so Back undoes a whole drag. */
const COALESCE_MS = 1000;

/** The settings in the page's URL hash, with the keys that fell back to defaults. */
function readHash(): { settings: Settings; warnings: string[] } {
  return decodeHash(location.hash);
}
function hashOf(s: Settings): string {
  return `#${encodeHash(s).replace(/^#/, '')}`;
}

export interface HashSettings {
  settings: Settings;
  /** What decodeHash could not use, to be said on the page. */
  warnings: string[];
  dismissWarnings(): void;
  /** A new value of one setting, or a whole new set (a preset); `key` groups rapid edits into one history entry. */
  apply(next: Settings, key: string): void;
  current(): Settings;
}

/**
 * Settings from the hash at load, then kept in step with it both ways. `reset` starts a run; it is called at mount
 * (after the worker is wired, so call this hook after useRun), on Back/Forward, and after each change settles.
 */
export function useHashSettings(reset: (s: Settings) => void): HashSettings {
  const initial = useMemo(readHash, []);
  const [settings, setSettings] = useState(initial.settings);
  const [warnings, setWarnings] = useState(initial.warnings);
  const settingsRef = useRef(settings);
  settingsRef.current = settings;
  const resetTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastEdit = useRef({ key: '', at: 0 });

  // A link without settings (or with bad ones) gets the full, corrected hash, without a new history entry.
  useEffect(() => {
    if (location.hash.length <= 1 || initial.warnings.length > 0) history.replaceState(null, '', hashOf(initial.settings));
    reset(initial.settings);
  }, []);

  // Back/forward and edited links: the hash is the truth, so decode it and start that run.
  useEffect(() => {
    const sync = () => {
      const { settings: s, warnings: w } = readHash();
      if (hashOf(s) === hashOf(settingsRef.current)) return;
      clearTimeout(resetTimer.current);
      settingsRef.current = s;
      setSettings(s);
      setWarnings(w);
      reset(s);
    };
    window.addEventListener('popstate', sync);
    window.addEventListener('hashchange', sync);
    return () => {
      window.removeEventListener('popstate', sync);
      window.removeEventListener('hashchange', sync);
    };
  }, [reset]);

  /** Into the hash at once (one history entry per burst of edits), into the worker once it settles. */
  const apply = useCallback(
    (next: Settings, key: string) => {
      const h = hashOf(next);
      if (h === location.hash) return;
      const now = performance.now();
      if (lastEdit.current.key === key && now - lastEdit.current.at < COALESCE_MS) history.replaceState(null, '', h);
      else history.pushState(null, '', h);
      lastEdit.current = { key, at: now };
      settingsRef.current = next;
      setSettings(next);
      setWarnings([]);
      clearTimeout(resetTimer.current);
      resetTimer.current = setTimeout(() => reset(next), key === 'preset' ? 0 : RESET_DELAY_MS);
    },
    [reset],
  );

  return { settings, warnings, dismissWarnings: () => setWarnings([]), apply, current: () => settingsRef.current };
}
