/**
 * The container image recipe and the Kubernetes examples. Building the image and kubeconform run
 * only on GitHub (.github/workflows/image.yml: no Docker engine or schema download here); this file
 * parses the real manifests and Dockerfile and asserts what must never regress: non-root, read-only
 * root filesystem with a writable /tmp, no privilege escalation, secrets only from Secrets, bundles
 * to S3, and dbdrill arguments that the committed CLI accepts.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const DIR = 'examples/kubernetes';

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  restartPolicy?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    privileged?: boolean;
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  hostNetwork?: boolean;
  automountServiceAccountToken?: boolean;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: object; secret?: { secretName: string } }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: {
    schedule?: string;
    concurrencyPolicy?: string;
    jobTemplate?: { spec: { template: { spec: PodSpec } } };
    template?: { spec: PodSpec };
  };
  stringData?: Record<string, string>;
}

const files = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const manifests: (Manifest & { file: string })[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
    expect(doc.errors).toEqual([]);
    return { ...(doc.toJS() as Manifest), file };
  }),
);
const pods = manifests
  .map((m) => ({ m, pod: m.spec?.jobTemplate?.spec.template.spec ?? m.spec?.template?.spec }))
  .filter((p): p is { m: Manifest & { file: string }; pod: PodSpec } => p.pod !== undefined);
const cronJob = (name: string) => manifests.find((m) => m.kind === 'CronJob' && m.metadata.name === name)!;
const podOf = (name: string) => cronJob(name).spec!.jobTemplate!.spec.template.spec;
const dbdrillContainer = (pod: PodSpec) => pod.containers.find((c) => /dbdrill/.test(c.image))!;

/** The long flags `dbdrill <command> --help` lists, from the committed CLI bundle. */
function cliFlags(command: string): Set<string> {
  const help = execFileSync(process.execPath, ['dist/cli/index.js', command, '--help'], { encoding: 'utf8' });
  return new Set([...help.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]));
}

describe('examples/kubernetes', () => {
  it('holds a backup CronJob, a quarterly drill CronJob and the Secret they read', () => {
    expect(files).toEqual(['backup-cronjob.yaml', 'drill-cronjob.yaml', 'secret.example.yaml']);
    expect(cronJob('dbdrill-backup').spec!.schedule).toMatch(/^\S+ \S+ \* \* \*$/); // daily
    // the first day of every third month
    expect(cronJob('dbdrill-drill').spec!.schedule).toMatch(/^\S+ \S+ 1 (1,4,7,10|\*\/3) \*$/);
    for (const name of ['dbdrill-backup', 'dbdrill-drill'])
      expect(cronJob(name).spec!.concurrencyPolicy).toBe('Forbid');
  });

  it('runs every container non-root, read-only, without privilege escalation or capabilities', () => {
    expect(pods.length).toBe(2);
    for (const { m, pod } of pods) {
      expect([m.file, pod.securityContext?.runAsNonRoot]).toEqual([m.file, true]);
      expect([m.file, pod.securityContext?.seccompProfile?.type]).toEqual([m.file, 'RuntimeDefault']);
      expect(pod.hostNetwork).toBeUndefined();
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const sc = c.securityContext ?? {};
        const where = `${m.file}: ${c.name}`;
        expect([where, sc.runAsNonRoot, sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation]).toEqual([
          where,
          true,
          true,
          false,
        ]);
        expect([where, sc.capabilities?.drop]).toEqual([where, ['ALL']]);
        expect([where, sc.capabilities?.add, sc.privileged]).toEqual([where, undefined, undefined]);
        if (sc.runAsUser !== undefined) expect(sc.runAsUser).toBeGreaterThan(0);
      }
    }
  });

  it('gives every container a writable /tmp from an emptyDir (the root filesystem is read-only)', () => {
    for (const { m, pod } of pods) {
      const emptyDirs = new Set((pod.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const tmp = c.volumeMounts?.find((v) => v.mountPath === '/tmp');
        expect([m.file, c.name, tmp && emptyDirs.has(tmp.name)]).toEqual([m.file, c.name, true]);
      }
    }
  });

  it('takes every secret from a Secret, never as a literal value', () => {
    const secretish = /URL|PASSWORD|SECRET|TOKEN|KEY|IDENTITY|RECIPIENT/i;
    for (const { m, pod } of pods) {
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        for (const e of c.env ?? []) {
          if (!secretish.test(e.name)) continue;
          expect([m.file, c.name, e.name, e.value, Boolean(e.valueFrom?.secretKeyRef)]).toEqual([
            m.file,
            c.name,
            e.name,
            undefined,
            true,
          ]);
        }
        // nothing secret typed into the arguments: URLs with credentials come from $(VAR)
        for (const a of c.args ?? []) expect(a).not.toMatch(/:\/\/[^/@\s]+:[^/@\s]+@/);
      }
      for (const v of pod.volumes ?? []) if (v.secret) expect(v.secret.secretName).toBeTruthy();
    }
    const secretNames = new Set(manifests.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name));
    for (const { pod } of pods)
      for (const v of pod.volumes ?? [])
        if (v.secret) expect(secretNames.has(v.secret.secretName)).toBe(true);
  });

  it('the backup pod cannot decrypt: it gets the age recipient, and only the drill mounts the identity', () => {
    const backup = podOf('dbdrill-backup');
    const drill = podOf('dbdrill-drill');
    expect(JSON.stringify(backup)).not.toContain('dbdrill-age-identity');
    expect(dbdrillContainer(backup).args).toContain('--recipients=$(AGE_RECIPIENT)');
    expect(drill.volumes?.some((v) => v.secret?.secretName === 'dbdrill-age-identity')).toBe(true);
  });

  it('stores bundles in S3 and passes only flags the committed CLI accepts', () => {
    for (const [name, command] of [
      ['dbdrill-backup', 'backup'],
      ['dbdrill-drill', 'drill'],
    ] as const) {
      const args = dbdrillContainer(podOf(name)).args!;
      expect(args[0]).toBe(command);
      expect(args).toContain('--store=s3://my-backups/shop');
      const known = cliFlags(command);
      for (const arg of args.slice(1)) {
        const flag = /^--([a-z0-9-]+)/.exec(arg)?.[1];
        expect([name, arg, flag !== undefined && (known.has(flag) || flag === 'json')]).toEqual([
          name,
          arg,
          true,
        ]);
      }
    }
  });

  it('drills into a pod-local scratch PostgreSQL that starts before the drill and stops with it', () => {
    const drill = podOf('dbdrill-drill');
    const sidecar = drill.initContainers?.find((c) => c.name === 'scratch-postgres');
    expect(sidecar?.restartPolicy).toBe('Always');
    expect(sidecar?.args?.join(' ')).toContain('listen_addresses=127.0.0.1');
    expect(dbdrillContainer(drill).args).toContain('--target-url=postgres://postgres@127.0.0.1:5432/drill');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync('Dockerfile', 'utf8');
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('ends as a numeric non-root user with dbdrill as the entry point', () => {
    const users = instructions.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(instructions.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["dbdrill"]');
  });

  it('installs the client tools of every supported major (14-18), age, and the packed CLI', () => {
    expect(text).toMatch(/ARG PG_MAJORS="14 15 16 17 18"/);
    expect(text).toMatch(/postgresql-client-\$m/);
    expect(text).toMatch(/apt-get install[^\n]* age\b/);
    expect(text).toMatch(/npm pack/);
    expect(text).toMatch(/npm install -g [^\n]*dbdrill\.tgz/);
  });

  it('sends only what npm pack ships as the build context', () => {
    const ignore = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(ignore).toEqual(expect.arrayContaining(['!package.json', '!dist/cli/']));
    for (const copied of [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' ')))
      expect([copied, ignore.includes(`!${copied}`)]).toEqual([copied, true]);
  });
});
