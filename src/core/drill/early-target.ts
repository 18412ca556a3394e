/**
 * A throwaway PostgreSQL target started while the bundle is still being fetched and verified.
 * initdb and the server's start take a second or two of mostly waiting; the manifest (the bundle's
 * first member) already says what the target needs (database name, source major, locale), so the
 * drill need not wait for the last byte of the bundle to begin. The provision phase then adopts
 * the target if its request matches what the engine asks for; a target nobody adopted (the bundle
 * failed verification, or the engine asked for something else) is cancelled and torn down.
 */
import type { PostgresComponent, Manifest } from '../bundle/manifest.js';
import type { PostgresTargetRequest, ScratchTarget } from '../engines/engine.js';
import type { Logger } from '../logger.js';

export class EarlyTarget {
  private started?: { key: string; target: Promise<ScratchTarget> };
  private adopted = false;
  private readonly cancel = new AbortController();

  /**
   * `provision` starts a target for a request with the given signal (the drill's, joined with
   * this object's own, which `discard` aborts).
   */
  constructor(
    private readonly provision: (
      request: PostgresTargetRequest,
      signal: AbortSignal,
    ) => Promise<ScratchTarget>,
    private readonly logger: Logger,
    private readonly signal?: AbortSignal,
    /** The component the drill restores (a fleet member of a joint bundle); absent: the first PostgreSQL one. */
    private readonly componentId?: string,
  ) {}

  /**
   * Called with the bundle's valid manifest, before the rest of the bundle is read. Starts only
   * when the request is fully known from the manifest: a component without a recorded locale gets
   * its locale from the dump's TOC later, so it is provisioned in the provision phase as before.
   */
  onManifest(manifest: Manifest): void {
    if (this.started) return;
    const c = manifest.components.find(
      (x): x is PostgresComponent =>
        x.engine === 'postgres' && (this.componentId === undefined || x.id === this.componentId),
    );
    if (!c?.locale) return;
    const request = requestOf(c);
    const signal = this.signal ? AbortSignal.any([this.signal, this.cancel.signal]) : this.cancel.signal;
    this.logger.info('starting the scratch PostgreSQL target while the bundle is verified');
    const target = this.provision(request, signal);
    // A failure surfaces when the provision phase adopts the target; a discarded one is moot.
    target.catch(() => undefined);
    this.started = { key: keyOf(request), target };
  }

  /** The early target when it was started for exactly this request; undefined otherwise. */
  take(request: PostgresTargetRequest): Promise<ScratchTarget> | undefined {
    if (!this.started || this.adopted || this.started.key !== keyOf(request)) return undefined;
    this.adopted = true;
    return this.started.target;
  }

  /** Stops a target that was started but never adopted. Never throws. */
  async discard(): Promise<void> {
    if (!this.started || this.adopted) return;
    this.cancel.abort();
    const t = await this.started.target.catch(() => undefined);
    await t?.teardown().catch((e: unknown) => this.logger.warning(`teardown failed: ${String(e)}`));
  }
}

/** What the PostgreSQL drill asks for when the manifest records the component's locale. */
export function requestOf(c: PostgresComponent): PostgresTargetRequest {
  return { database: c.database, sourceMajor: Math.floor(c.serverVersionNum / 10000), locale: c.locale };
}

function keyOf(r: PostgresTargetRequest): string {
  return JSON.stringify([r.database, r.sourceMajor ?? null, r.locale ?? null]);
}
