// TEST HELPER: the relative link targets of a Markdown file (images and links), to check that they resolve.

/** Relative link targets of Markdown images and links (URLs with a scheme and #anchors left out). */
export function markdownLinks(md: string): string[] {
  return [...md.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => decodeURIComponent(m[1])).filter((l) => !/^[a-z]+:/i.test(l) && !l.startsWith('#'));
}
