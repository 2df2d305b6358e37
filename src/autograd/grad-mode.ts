// Grad mode: whether ops record themselves for backward (off inside noGrad).

let enabled = true;

/** True when ops should record backward rules. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` without recording any op (evaluation, optimizer updates); restores the previous mode even on throw. */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
