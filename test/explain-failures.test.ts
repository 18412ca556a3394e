/**
 * Small pieces of "every failure explains itself" that need no database: docker's own cause
 * instead of its last line, and an identity given as a path shown, not masked.
 */
import { describe, expect, it } from '@jest/globals';

import { maskSecretInputs } from '../src/adapters/startup.js';
import { dockerCause } from '../src/core/provision/target.js';
import { MemoryLogger } from './helpers/memory-logger.js';

describe('dockerCause', () => {
  it("names docker's own cause, not the advice on its last line", () => {
    const stderr = [
      "Unable to find image 'postgres:17' locally",
      'docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?.',
      "See 'docker run --help'.",
      '',
    ].join('\n');
    expect(dockerCause(stderr)).toBe(
      'docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?.',
    );
    expect(
      dockerCause("docker: Error response from daemon: manifest unknown.\nSee 'docker run --help'.\n"),
    ).toBe('docker: Error response from daemon: manifest unknown.');
    expect(dockerCause('something odd\n')).toBe('something odd');
    expect(dockerCause('')).toBe('(docker printed nothing)');
  });
});

describe('identity in logs', () => {
  it('shows the path of a key file and masks key material', () => {
    const logger = new MemoryLogger();
    maskSecretInputs('drill', { identity: '/etc/dbdrill/restore.key' }, logger);
    logger.info('cannot read /etc/dbdrill/restore.key');
    const key = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    maskSecretInputs('drill', { identity: key }, logger);
    logger.info(`got ${key}`);
    expect(logger.lines).toEqual(['cannot read /etc/dbdrill/restore.key', 'got ***']);
  });
});
