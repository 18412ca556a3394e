export const id = 984;
export const ids = [984];
export const modules = {

/***/ 24984:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  pruneJson: () => (/* binding */ pruneJson),
  runList: () => (/* binding */ runList),
  runPrune: () => (/* binding */ runPrune)
});

// EXTERNAL MODULE: ./build/ncc-src/src/core/duration.js
var duration = __webpack_require__(29353);
// EXTERNAL MODULE: ./build/ncc-src/src/core/catalog/index.js + 6 modules
var catalog = __webpack_require__(39100);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/list.js
/**
 * The list use case: the bundles of a name, newest first (by their names, never by modification
 * time), with age, size and what their verification records say.
 */

async function list(deps, options) {
    const store = deps.openStore(options.store);
    return {
        ok: true,
        store: store.displayUri,
        name: options.name,
        bundles: await (0,catalog/* listWithRecords */.tw)(store, options.name, deps.clock),
    };
}
/** The JSON shape of `dbdrill list --json` (no Date objects, no record internals). */
function listJson(result) {
    return {
        ok: result.ok,
        store: result.store,
        name: result.name,
        bundles: result.bundles.map((b) => ({
            key: b.key,
            createdAt: b.createdAt,
            ageSeconds: b.ageSeconds,
            sizeBytes: b.sizeBytes,
            verified: b.verified,
            level: b.level,
            verifiedAt: b.verifiedAt,
            ...(b.record ? { verifiedDeep: b.record.deep, verifiedScope: b.record.scope } : {}),
        })),
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/options/index.js + 15 modules
var core_options = __webpack_require__(62187);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/prune.js
/**
 * The prune use case: grandfather-father-son retention over one name's bundles in a store. The
 * work (verify the newest if unknown, plan, delete, check what is left) is the catalog's
 * `pruneStore`, which backup also runs after verifying its upload.
 */

async function prune(deps, options) {
    const store = deps.openStore(options.store);
    return (0,catalog/* pruneStore */.I9)(deps, store, options.name, options.policy, options.dryRun);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/cli/store-commands.js





function verifiedText(b) {
    if (b.level === 'unknown')
        return 'verified: unknown';
    // A bytes-only check of an encrypted bundle is not a verification of its contents.
    if (b.level === 'stored-object-intact')
        return `verified: no, ${catalog/* LEVEL_TEXT */.d6[b.level]} (${b.verifiedAt})`;
    return `verified: ${b.verified} (${b.verifiedAt}${b.record?.deep ? ', deep' : ''})`;
}
async function runList(deps, reader, io) {
    const options = (0,core_options/* parseListOptions */.Ic)(reader);
    const result = await list(deps, options);
    if (io.json) {
        io.print(listJson(result));
        return 0;
    }
    if (result.bundles.length === 0)
        io.stdout(`no bundles named "${options.name}" in ${result.store}\n`);
    for (const b of result.bundles) {
        io.stdout(`${b.key}\t${(0,duration/* formatDuration */.a3)(b.ageSeconds)} old\t${(0,duration/* formatBytes */.z3)(b.sizeBytes)}\t${verifiedText(b)}\n`);
    }
    return 0;
}
function pruneJson(r) {
    return {
        ok: r.ok,
        store: r.store,
        name: r.name,
        dryRun: r.dryRun,
        kept: r.kept,
        deleted: r.deleted,
        problems: r.problems,
        ...(r.blockedReason ? { blockedReason: r.blockedReason } : {}),
        newest: r.newest ?? null,
        newestVerified: r.newestVerified ?? null,
    };
}
async function runPrune(deps, reader, io) {
    const result = await prune(deps, (0,core_options/* parsePruneOptions */.qz)(reader));
    if (io.json)
        io.print(pruneJson(result));
    else {
        for (const k of result.kept)
            io.stdout(`keep\t${k.key}\t${k.reasons.join(', ')}\t${catalog/* LEVEL_TEXT */.d6[k.level ?? 'unknown']}\n`);
        for (const d of result.deleted)
            io.stdout(`${result.dryRun ? 'would delete' : 'deleted'}\t${d}\n`);
    }
    return 0;
}


/***/ })

};
