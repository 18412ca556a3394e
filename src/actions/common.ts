/**
 * What the three actions share: reading inputs through the same option specs as the CLI,
 * masking secret inputs, the @actions/core logger, and the one wrapper that calls setFailed.
 */
import * as core from '@actions/core';

import { lazyMongoDownloader } from '../adapters/lazy-mongo-downloader.js';
import { storeSettingsFrom } from '../adapters/store-settings.js';
import { runtimeDeps, type RuntimeDeps } from '../core/deps.js';
import { messageOf } from '../core/errors.js';
import { maskUrlOrValue, Redactor, type Logger } from '../core/logger.js';
import { OptionReader, specsFor, type Command, type RawOptions } from '../core/options.js';

export class ActionsLogger implements Logger {
  readonly redactor = new Redactor();
  debug(m: string): void {
    core.debug(this.redactor.redact(m));
  }
  info(m: string): void {
    core.info(this.redactor.redact(m));
  }
  warning(m: string): void {
    core.warning(this.redactor.redact(m));
  }
  error(m: string): void {
    core.error(this.redactor.redact(m));
  }
  startGroup(t: string): void {
    core.startGroup(this.redactor.redact(t));
  }
  endGroup(): void {
    core.endGroup();
  }
  addSecret(v: string): void {
    core.setSecret(v);
    this.redactor.add(v);
  }
}

export function readInputs(command: Command, logger: Logger): RawOptions {
  const raw: RawOptions = {};
  for (const spec of specsFor(command)) {
    if (spec.kind === 'list') {
      const lines = core.getMultilineInput(spec.name);
      if (lines.length) raw[spec.name] = lines;
    } else {
      const v = core.getInput(spec.name);
      if (v) raw[spec.name] = v;
    }
    if (spec.secret) for (const v of [raw[spec.name]].flat()) if (v) maskUrlOrValue(logger, v);
  }
  return raw;
}

export interface ActionContext {
  logger: ActionsLogger;
  reader: OptionReader;
  deps: RuntimeDeps;
  signal: AbortSignal;
}

/** The one wrapper per entry point: everything inside throws, this turns it into setFailed. */
export async function runAction(
  command: Command,
  body: (ctx: ActionContext) => Promise<void>,
): Promise<void> {
  const logger = new ActionsLogger();
  const controller = new AbortController();
  // GitHub cancels a job with SIGINT, then SIGTERM; both must clean up (scratch servers, partial uploads).
  const onSignal = (sig: NodeJS.Signals) => {
    logger.warning(`received ${sig}; stopping and cleaning up`);
    controller.abort(sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const raw = readInputs(command, logger);
    const reader = new OptionReader(raw, (n) => n);
    const deps = {
      ...runtimeDeps(
        logger,
        (n) => n,
        controller.signal,
        storeSettingsFrom(raw, command, (n) => n),
      ),
      mongoToolDownloader: lazyMongoDownloader(logger),
    };
    await body({ logger, reader, deps, signal: controller.signal });
  } catch (err) {
    core.setFailed(logger.redactor.redact(messageOf(err)));
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
