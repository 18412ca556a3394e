/**
 * Cleans up after this process when it dies without cleaning up itself: SIGKILL, an OOM kill, a
 * CI runner or test runner killed mid-run. Signals and EPIPE are handled in-process (teardown runs);
 * this is the last line for what no handler can catch, because a scratch cluster left running and
 * a work dir holding a decrypted dump must not outlive dbdrill.
 *
 * Why a bare `child_process.spawn` beside the ProcessRunner port: the reaper must outlive this
 * process (detached, no pipes, unref'd), which a runner handle with streams cannot express, and it
 * logs nothing: it only ever acts once we are gone.
 */
import { spawn } from 'node:child_process';

/** Waits for the owner to die, stops the postmaster of `dataDir` (when given), then removes `dir`. */
const SCRIPT = `
owner=$1 dir=$2 data=$3
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
if [ -n "$data" ] && [ -f "$data/postmaster.pid" ]; then
  pid=$(head -n 1 "$data/postmaster.pid")
  if [ -n "$pid" ] && tr '\\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$data"; then
    kill -QUIT "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null
  fi
fi
rm -rf -- "$dir"
`;

export interface Reaper {
  /** The owner cleaned up itself: the reaper goes away without touching anything. */
  cancel(): void;
}

/**
 * Starts a reaper for `dir` (and the server whose data dir is `postmasterDataDir`). Never throws:
 * without /bin/sh there is simply no reaper, as before.
 */
export function reapAfterExit(dir: string, postmasterDataDir = ''): Reaper {
  try {
    const child = spawn(
      '/bin/sh',
      ['-c', SCRIPT, 'dbdrill-reaper', String(process.pid), dir, postmasterDataDir],
      {
        detached: true,
        stdio: 'ignore',
      },
    );
    child.on('error', () => undefined);
    child.unref();
    return {
      cancel: () => {
        try {
          if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      },
    };
  } catch {
    return { cancel: () => undefined };
  }
}
