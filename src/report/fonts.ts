// Finds TrueType fonts on this machine for the PNG rasterizer (resvg draws no text without a font).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fontFamilyName } from './font-metrics.js';

/** Font files tried first: DejaVu and Liberation ship with Debian/Ubuntu and most Linux images. */
const PREFERRED: { family: string; files: string[] }[] = [
  { family: 'DejaVu Sans', files: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
    '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf'] },
  { family: 'Liberation Sans', files: ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
    '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf', '/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf'] },
  { family: 'Arial', files: ['/Library/Fonts/Arial.ttf', '/System/Library/Fonts/Supplemental/Arial.ttf', 'C:\\Windows\\Fonts\\arial.ttf',
    'C:\\Windows\\Fonts\\arialbd.ttf'] },
];

/** Directories scanned when none of the preferred files exist. */
const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', '/Library/Fonts', '/System/Library/Fonts', 'C:\\Windows\\Fonts'];

/** The family name inside a font file (resvg selects fonts by family), or null. */
function familyOf(file: string): string | null {
  try {
    return fontFamilyName(readFileSync(file));
  } catch {
    return null;
  }
}

/** Fonts for resvg: files to load and the family that stands in for 'sans-serif' (null family: none found). */
export interface FontSet {
  files: string[];
  family: string | null;
  /** The regular and bold faces (for text measurement), when identifiable. */
  regular?: string;
  bold?: string;
}

let cached: FontSet | null = null;

/**
 * The fonts to rasterize with. `BNLAB_FONT` (a .ttf/.otf path) overrides the search. When no font is found
 * `files` is empty: PNGs are still written but their text may be missing, and the report says so.
 */
export function findFonts(): FontSet {
  if (cached) return cached;
  const env = process.env.BNLAB_FONT;
  if (env && existsSync(env)) return (cached = { files: [env], family: familyOf(env), regular: env });
  for (const p of PREFERRED) {
    const files = p.files.filter((f) => existsSync(f));
    if (files.length > 0 && existsSync(p.files[0])) return (cached = { files, family: p.family, regular: p.files[0], bold: files.find((f) => /bold|bd\./i.test(f)) });
  }
  // Fall back to any sans font file under the usual directories (bounded walk: font trees are shallow).
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 4 || found.length >= 4) return;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (/\.(ttf|otf)$/i.test(e) && /sans/i.test(e) && !/mono/i.test(e)) found.push(p);
      else if (!e.includes('.')) {
        try {
          if (statSync(p).isDirectory()) walk(p, depth + 1);
        } catch {
          /* unreadable entry: skip */
        }
      }
    }
  };
  for (const d of FONT_DIRS) walk(d, 0);
  return (cached = { files: found, family: found.length ? familyOf(found[0]) : null, regular: found[0] });
}
