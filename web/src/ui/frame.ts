// One requestAnimationFrame loop for the whole page: worker messages mark it dirty, views redraw at most once a frame.
import { createContext } from 'preact';
import { RunHistory } from './history.js';

type Listener = () => void;

/** Calls its listeners at most once per animation frame, and only after something called `mark()`. */
export class FrameTicker {
  private listeners = new Set<Listener>();
  private pending = false;

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  mark(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      for (const fn of this.listeners) {
        try {
          fn();
        } catch (e) {
          // A broken view must not stop the others from drawing; the error still reaches the page's error banner.
          setTimeout(() => {
            throw e;
          });
        }
      }
    });
  }
}

/** What live views share: the run's history and the frame ticker that says when to redraw. */
export interface Live {
  history: RunHistory;
  ticker: FrameTicker;
}

export const LiveContext = createContext<Live>({ history: new RunHistory(), ticker: new FrameTicker() });
