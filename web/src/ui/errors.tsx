// What went wrong, said on the page: settings that fell back to defaults, worker errors, and views that crashed.
import { Component, type ComponentChildren } from 'preact';

export function Banners(props: {
  warnings: string[];
  errors: string[];
  onDismissWarnings: () => void;
  onDismissErrors: () => void;
}) {
  return (
    <>
      {props.warnings.length > 0 && (
        <div class="banner warnings" role="alert" data-testid="warnings">
          <div>
            <b>Some settings in this link were not understood and use their defaults:</b>
            <ul>
              {props.warnings.map((w, i) => (
                <li key={i}>{w}</li>
              ))}
            </ul>
          </div>
          <button type="button" class="icon" aria-label="dismiss" onClick={props.onDismissWarnings}>
            ×
          </button>
        </div>
      )}
      {props.errors.length > 0 && (
        <div class="banner errors" role="alert" data-testid="error">
          <div>
            <b>Something went wrong:</b>
            <ul>
              {props.errors.map((e, i) => (
                <li key={i}>{e}</li>
              ))}
            </ul>
          </div>
          <button type="button" class="icon" aria-label="dismiss" onClick={props.onDismissErrors}>
            ×
          </button>
        </div>
      )}
    </>
  );
}

/** Keeps a crash in one part of the page from blanking the rest: the part is replaced by its error. */
export class ErrorBoundary extends Component<{ where: string; children?: ComponentChildren }, { error: string | null }> {
  override state = { error: null as string | null };

  override componentDidCatch(error: unknown): void {
    this.setState({ error: error instanceof Error ? `${error.message}` : String(error) });
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    return (
      <div class="banner errors" role="alert" data-testid="view-error">
        <div>
          <b>{this.props.where} stopped working:</b> {this.state.error}
        </div>
        <button type="button" onClick={() => this.setState({ error: null })}>
          try again
        </button>
      </div>
    );
  }
}
