/**
 * What the three actions share: the @actions/core logger, reading inputs through the same option
 * table as the CLI (action-only inputs included), and the one wrapper that calls setFailed.
 */
import * as core from '@actions/core';

import { messageOf } from '../core/errors.js';
import { Redactor, type Logger } from '../core/logger.js';
import { specsFor, type Command, type RawOptions } from '../core/options/index.js';
import { withSession, type Session } from '../adapters/startup.js';

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

/** Every input of the command's action; multiline inputs become lists, empty inputs are left out. */
export function readInputs(command: Command): RawOptions {
  const raw: RawOptions = {};
  for (const spec of specsFor(command)) {
    if (spec.kind === 'list') {
      const lines = core.getMultilineInput(spec.name);
      if (lines.length) raw[spec.name] = lines;
    } else {
      const v = core.getInput(spec.name);
      if (v) raw[spec.name] = v;
    }
  }
  return raw;
}

export interface ActionContext extends Session {
  logger: ActionsLogger;
}

/** The one wrapper per action: everything inside throws, this turns it into setFailed. */
export async function runAction(
  command: Command,
  body: (ctx: ActionContext) => Promise<void>,
): Promise<void> {
  const logger = new ActionsLogger();
  try {
    const raw = readInputs(command);
    await withSession({ command, raw, label: (n) => n, logger }, (session) => body({ ...session, logger }));
  } catch (err) {
    core.setFailed(logger.redactor.redact(messageOf(err)));
  }
}
