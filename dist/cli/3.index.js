export const id = 3;
export const ids = [3];
export const modules = {

/***/ 95003:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   backup: () => (/* binding */ backup),
/* harmony export */   backupAndPrune: () => (/* binding */ backupAndPrune),
/* harmony export */   round: () => (/* binding */ round)
/* harmony export */ });
/* harmony import */ var _catalog_index_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(39100);
/* harmony import */ var _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(79269);
/* harmony import */ var _bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6390);
/* harmony import */ var _components_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(46065);
/* harmony import */ var _encryption_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(77863);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(1454);
/* harmony import */ var _secrets_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(96400);
/* harmony import */ var _version_js__WEBPACK_IMPORTED_MODULE_8__ = __webpack_require__(45545);
/* harmony import */ var _work_dir_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(43150);
/**
 * The backup use case: dump, count in the same snapshot, add the secret store, and publish one
 * bundle atomically. Nothing reaches the store until everything it depends on has succeeded.
 * With a retention policy, the new bundle is then verified where it was stored and the name is
 * pruned (backupAndPrune).
 */









async function backup(deps, options) {
    const { logger, clock } = deps;
    const label = deps.label ?? ((n) => n);
    const t0 = clock.monotonicMs();
    const startedAt = clock.now();
    const store = deps.openStore(options.store);
    await store.checkWritable?.();
    const secrets = await (0,_secrets_js__WEBPACK_IMPORTED_MODULE_5__/* .collectSecretFiles */ .CU)(options.secretFiles, label('secret-files'));
    // Masks secret values, refuses plain secret files, builds the encrypt stream and checks the KEK pairing.
    const security = await (0,_encryption_js__WEBPACK_IMPORTED_MODULE_3__/* .prepareBackupSecurity */ .U5)({ ...deps, label }, options, secrets, deps.encrypt);
    store.checkBundle?.({ secretFiles: secrets.length, encrypted: !!security.encrypt });
    // Listing before dumping also proves the store answers (bucket, credentials) before any work is done.
    const existing = new Set((await store.list(options.name)).map((o) => o.key));
    const work = await (0,_work_dir_js__WEBPACK_IMPORTED_MODULE_6__/* .makeWorkDir */ .d)('backup');
    try {
        logger.startGroup(`Dumping ${(options.databases ?? [options]).map((d) => d.engine).join(' + ')}`);
        let dumps;
        try {
            dumps = await (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .dumpComponents */ .n6)(deps, options, work.dir, label);
        }
        catch (err) {
            (0,_errors_js__WEBPACK_IMPORTED_MODULE_4__/* .throwIfCancelled */ .dZ)(deps.signal);
            throw err;
        }
        finally {
            logger.endGroup();
        }
        (0,_errors_js__WEBPACK_IMPORTED_MODULE_4__/* .throwIfCancelled */ .dZ)(deps.signal);
        const components = dumps.map((d) => d.component);
        const skew = (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .computeSkew */ .OO)(components);
        if (skew)
            logger.info(`skew between the dumps: ${skew.seconds} s (${skew.from} to ${skew.to})`);
        (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .checkMaxSkew */ .VC)(skew, options.maxSkewSeconds, label);
        const members = [
            ...(await (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .dumpMembers */ .wG)(dumps, deps.engines)),
            ...secrets.map((s) => ({
                path: s.member,
                sizeBytes: s.sizeBytes,
                sha256: s.sha256,
                role: 'secret',
            })),
        ];
        const endedAt = (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .latestEnd */ .zO)(components);
        const encrypted = !!security.encrypt;
        const manifest = {
            format: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .MANIFEST_FORMAT */ .Sn,
            formatVersion: (0,_bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .manifestFormatVersionFor */ .Q3)(components),
            dbdrillVersion: _version_js__WEBPACK_IMPORTED_MODULE_8__/* .DBDRILL_VERSION */ .P,
            name: options.name,
            startedAt: startedAt.toISOString(),
            endedAt: endedAt.toISOString(),
            components,
            members,
            secrets: (0,_secrets_js__WEBPACK_IMPORTED_MODULE_5__/* .secretsRecord */ .RT)(secrets),
            encryption: security.encryption,
            ...(skew ? { skew } : {}),
            checksums: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .CHECKSUMS_MEMBER */ .oM,
        };
        const mtime = endedAt;
        const entries = [
            { path: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .MANIFEST_MEMBER */ .dN, content: Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), mtime },
            ...(await (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .dumpPackEntries */ .aL)(dumps, mtime, deps.engines)),
            ...secrets.map((s) => ({ path: s.member, file: s.source, mtime })),
        ];
        let key = (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .bundleKey */ .CK)(options.name, startedAt, { encrypted });
        for (let seq = 2; existing.has(key); seq++)
            key = (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .bundleKey */ .CK)(options.name, startedAt, { encrypted, sequence: seq });
        if ((0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .bundlesOf */ .nA)(options.name, [key]).length !== 1)
            throw new Error(`internal: bundle key ${key} does not parse`);
        logger.info(`Writing ${key} to ${store.displayUri}`);
        // A cancelled run must not publish: the bundle's bytes stop with an error and the store discards them.
        const cancel = new AbortController();
        const onAbort = () => cancel.abort(new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .Cancelled */ .cJ(String(deps.signal?.reason ?? 'abort')));
        deps.signal?.addEventListener('abort', onAbort, { once: true });
        let put;
        try {
            put = await storeBundle(store, key, entries, security, cancel.signal, {
                metadata: (0,_bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .manifestSummary */ .OY)(manifest),
                noOverwrite: true,
            });
        }
        finally {
            deps.signal?.removeEventListener('abort', onAbort);
        }
        (0,_errors_js__WEBPACK_IMPORTED_MODULE_4__/* .throwIfCancelled */ .dZ)(deps.signal);
        await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .writeSha256Sidecar */ .Qm)(store, key, put.sha256);
        const totals = (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .componentTotals */ .Rb)(components, deps.engines);
        const result = {
            ok: true,
            bundle: put.location,
            key,
            sha256: put.sha256,
            sizeBytes: put.sizeBytes,
            durationSeconds: round((clock.monotonicMs() - t0) / 1000),
            name: options.name,
            startedAt: startedAt.toISOString(),
            endedAt: endedAt.toISOString(),
            encrypted,
            tables: totals.tables,
            rows: totals.rows,
            secretFiles: secrets.length,
            secretsFingerprint: manifest.secrets?.fingerprint ?? null,
            components: components.map((c) => (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .componentSummary */ .op)(c, deps.engines)),
            collections: totals.collections,
            documents: totals.documents,
            skewSeconds: skew?.seconds ?? null,
        };
        return result;
    }
    finally {
        await work.remove();
    }
}
/**
 * Streams the bundle into the store. A dump file's chunks come through one refilled buffer
 * (`bundleChunks` with `reuseBuffers`) when whoever takes them is done with each before asking for
 * the next: a store with `putChunks` (a local directory, S3: each chunk is copied into a reused
 * part buffer), or dbdrill's own age encryptor. A caller's encrypt hook is unknown, and the
 * artifact store takes a stream: those get fresh buffers.
 */
async function storeBundle(store, key, entries, security, signal, putOptions) {
    const options = { checksumsMember: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .CHECKSUMS_MEMBER */ .oM, signal };
    const reused = () => (0,_bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__/* .bundleChunks */ .$_)(entries, { ...options, reuseBuffers: true });
    if (!security.encrypt && store.putChunks)
        return store.putChunks(key, reused(), putOptions);
    // from the packer's reused buffers through the encryptor's to the store's writes: no copy kept
    if (security.encryptChunks && store.putChunks)
        return store.putChunks(key, security.encryptChunks(reused()), putOptions);
    const body = security.encryptChunks
        ? security.encryptChunks(reused()).toReadable()
        : security.encrypt
            ? security.encrypt((0,_bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__/* .packBundle */ .ii)(entries, options))
            : (0,_bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__/* .packBundle */ .ii)(entries, options);
    // The chunks stop at the next read after an abort; this stops a store that is not reading.
    const stop = () => body.destroy(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    try {
        return await store.put(key, body, putOptions);
    }
    finally {
        signal.removeEventListener('abort', stop);
    }
}
/**
 * backup, then (only when a retention policy was given) verify the new bundle where it was stored
 * and prune. Pruning after an unverified upload could rotate a good bundle away in favour of a bad
 * one, so a failed verification stops here with CheckFailed and deletes nothing.
 *
 * Without keep-* options backup does not re-read what it uploaded (that would double its I/O); the
 * stored object's sha256 sidecar still lets any later verify prove the bytes are intact.
 */
async function backupAndPrune(deps, options, policy) {
    const result = await backup(deps, options);
    if (!policy)
        return result;
    const { logger } = deps;
    const store = deps.openStore(options.store);
    logger.startGroup(`Verifying ${result.key} where it was stored, before pruning`);
    let record;
    try {
        // A passphrase decrypts what it encrypted; recipients' private keys are (rightly) not here.
        const decrypt = options.passphrase
            ? await (0,_encryption_js__WEBPACK_IMPORTED_MODULE_3__/* .decryptHook */ .b9)(logger, { passphrase: options.passphrase }, deps.label)
            : undefined;
        ({ record } = await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .verifyAndRecord */ .Mf)({ ...deps, decrypt }, store, result.key, 'backup'));
    }
    finally {
        logger.endGroup();
    }
    result.verification = record;
    if (!record.ok) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`the new bundle ${result.key} failed verification after upload, so nothing was pruned: ${record.problems.join('; ')}`, result);
    }
    if (record.scope === 'stored-object') {
        logger.info(`${result.key} is encrypted to recipients: its stored bytes match the uploaded sha256; run verify with identity to check its contents`);
    }
    result.prune = await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .pruneStore */ .I9)(deps, store, options.name, policy, false);
    return result;
}
function round(n, digits = 3) {
    const f = 10 ** digits;
    return Math.round(n * f) / f;
}


/***/ }),

/***/ 46065:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Ao: () => (/* binding */ componentIds),
/* harmony export */   OO: () => (/* binding */ computeSkew),
/* harmony export */   Rb: () => (/* binding */ componentTotals),
/* harmony export */   VC: () => (/* binding */ checkMaxSkew),
/* harmony export */   aL: () => (/* binding */ dumpPackEntries),
/* harmony export */   n6: () => (/* binding */ dumpComponents),
/* harmony export */   op: () => (/* binding */ componentSummary),
/* harmony export */   wG: () => (/* binding */ dumpMembers),
/* harmony export */   zO: () => (/* binding */ latestEnd)
/* harmony export */ });
/* unused harmony exports dumpFiles, assertEngineForOne */
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(51455);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(76760);
/* harmony import */ var _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(50305);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1454);
/**
 * One recovery point for the whole app: every database of one backup run is dumped (at the same
 * time, so their skew stays close to the longest dump) into one bundle. Each dump is a component
 * with a unique id that also names its member (`postgres.dump`, `mongodb.archive.gz`).
 */




/** `postgres`, `mongodb`, then `postgres-2`, ... for a second database of the same engine. */
function componentIds(engines) {
    const seen = new Map();
    return engines.map((e) => {
        const n = (seen.get(e) ?? 0) + 1;
        seen.set(e, n);
        return n === 1 ? e : `${e}-${n}`;
    });
}
async function dumpComponents(deps, options, workDir, label) {
    const databases = options.databases?.length
        ? options.databases
        : [{ engine: options.engine, url: options.databaseUrl }];
    const ids = componentIds(databases.map((d) => d.engine));
    const engines = deps.engines ?? _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u;
    const runs = databases.map((db, i) => (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(db.engine, engines).dump(deps, {
        databaseUrl: db.url,
        id: ids[i],
        workDir,
        options,
        databaseCount: databases.length,
        label,
    }));
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed)
        throw failed.reason;
    const dumps = settled.map((s) => s.value);
    for (const d of dumps) {
        if ((await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.stat)(d.dumpPath)).isDirectory()) {
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.chmod)(d.dumpPath, 0o700);
            for (const f of await dumpFiles(d, engines))
                await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.chmod)(f.file, 0o600);
        }
        else
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.chmod)(d.dumpPath, 0o600);
    }
    return dumps;
}
/**
 * The files a dump contributes to the bundle, as member path and local file: the dump itself,
 * or every file of a directory dump under its folder member (`postgres.dir/toc.dat`, ...).
 */
async function dumpFiles(d, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const info = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.stat)(d.dumpPath);
    if (!info.isDirectory())
        return [{ path: d.component.member, file: d.dumpPath, size: info.size }];
    const entries = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readdir)(d.dumpPath, { withFileTypes: true });
    const odd = entries.find((e) => !e.isFile());
    if (odd)
        throw new Error(`the ${d.component.engine} dump left ${odd.name} in ${d.dumpPath}, which is not a regular file`);
    const names = entries.map((e) => e.name);
    const engine = (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(d.component.engine, engines);
    const out = [];
    for (const name of engine.orderDumpFiles ? engine.orderDumpFiles(names) : [...names].sort()) {
        const file = (0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(d.dumpPath, name);
        out.push({ path: `${d.component.member}/${name}`, file, size: (await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.stat)(file)).size });
    }
    return out;
}
/** Sizes now; hashes go into the trailing SHA256SUMS member while the bundle streams (no extra read). */
async function dumpMembers(dumps, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const out = [];
    for (const d of dumps) {
        for (const f of await dumpFiles(d, engines)) {
            out.push({ path: f.path, sizeBytes: f.size, sha256: null, role: 'dump', component: d.component.id });
        }
    }
    return out;
}
/** The dumps' pack entries, in the same order as dumpMembers lists them. */
async function dumpPackEntries(dumps, mtime, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const out = [];
    for (const d of dumps)
        for (const f of await dumpFiles(d, engines)) {
            const precomputed = d.fileHashes?.get((0,node_path__WEBPACK_IMPORTED_MODULE_1__.basename)(f.file));
            out.push({ path: f.path, file: f.file, mtime, ...(precomputed ? { precomputed } : {}) });
        }
    return out;
}
/** Undefined for a single dump: skew is between dumps. */
function computeSkew(components) {
    if (components.length < 2)
        return undefined;
    const from = Math.min(...components.map((c) => Date.parse(c.startedAt)));
    const to = Math.max(...components.map((c) => Date.parse(c.endedAt)));
    return {
        seconds: Math.round(to - from) / 1000,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        components: components.map((c) => ({ id: c.id, startedAt: c.startedAt, endedAt: c.endedAt })),
    };
}
/** max-skew: a recovery point whose dumps are too far apart is not stored. */
function checkMaxSkew(skew, maxSkewSeconds, label) {
    if (maxSkewSeconds === undefined || !skew)
        return;
    if (skew.seconds > maxSkewSeconds) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .CheckFailed */ .EC(`the dumps are ${skew.seconds} s apart (${skew.components.map((c) => c.id).join(' and ')}, from ${skew.from} to ${skew.to}), over ${label('max-skew')} ${maxSkewSeconds} s; nothing was stored. Run the backup when the databases are quieter, or raise ${label('max-skew')}`);
    }
}
function latestEnd(components) {
    return new Date(Math.max(...components.map((c) => Date.parse(c.endedAt))));
}
/** The component as backup's `components` output lists it, in its engine's words. */
function componentSummary(c, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    return (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(c.engine, engines).summarize(c);
}
/** Backup's totals over every component: tables and rows, collections and documents. */
function componentTotals(components, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const sum = { tables: 0, rows: 0, collections: 0, documents: 0 };
    for (const c of components) {
        const t = (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(c.engine, engines).totals(c);
        for (const k of Object.keys(sum))
            sum[k] += t[k] ?? 0;
    }
    return sum;
}
/** Databases from the (repeatable) database-url; `engine` only applies to a single URL. */
function assertEngineForOne(count, engine, label) {
    if (count > 1 && engine) {
        throw new ConfigError(`${label('engine')} only applies with one ${label('database-url')}; with ${count} URLs each engine comes from its URL scheme, so remove ${label('engine')}`);
    }
}


/***/ })

};
