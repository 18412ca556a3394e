/** A Logger that collects its lines in memory, secrets redacted as the real loggers do. */
import { Redactor, type Logger } from '../../src/core/logger.js';

export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  readonly redactor = new Redactor();
  debug(m: string): void {
    this.lines.push('debug: ' + this.redactor.redact(m));
  }
  info(m: string): void {
    this.lines.push(this.redactor.redact(m));
  }
  warning(m: string): void {
    this.lines.push('warning: ' + this.redactor.redact(m));
  }
  error(m: string): void {
    this.lines.push('error: ' + this.redactor.redact(m));
  }
  startGroup(t: string): void {
    this.lines.push('group: ' + t);
  }
  endGroup(): void {}
  addSecret(v: string): void {
    this.redactor.add(v);
  }
}
