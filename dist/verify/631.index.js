export const id = 631;
export const ids = [631];
export const modules = {

/***/ 86631:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   toolCacheMongoDownloader: () => (/* binding */ toolCacheMongoDownloader)
/* harmony export */ });
/* unused harmony exports MONGO_TOOLS_CACHE_NAME, ensureToolCacheEnv */
/* harmony import */ var _actions_tool_cache__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(59805);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(73024);
/* harmony import */ var node_os__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(48161);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(76760);
/**
 * The MongoToolDownloader port on @actions/tool-cache: the pinned MongoDB Database Tools release
 * is downloaded once and reused from the tool cache (on a runner: RUNNER_TOOL_CACHE; in the CLI,
 * ~/.cache/dbdrill/tool-cache). Lives outside src/core because core never imports @actions/*.
 */




const MONGO_TOOLS_CACHE_NAME = 'mongodb-database-tools';
/** tool-cache needs RUNNER_TOOL_CACHE and RUNNER_TEMP; outside Actions they default under ~/.cache/dbdrill. */
function ensureToolCacheEnv(env = process.env, base = (0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)((0,node_os__WEBPACK_IMPORTED_MODULE_2__.homedir)(), '.cache', 'dbdrill')) {
    if (!env.RUNNER_TOOL_CACHE) {
        env.RUNNER_TOOL_CACHE = (0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(base, 'tool-cache');
        (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.mkdirSync)(env.RUNNER_TOOL_CACHE, { recursive: true, mode: 0o700 });
    }
    if (!env.RUNNER_TEMP) {
        env.RUNNER_TEMP = (0,node_path__WEBPACK_IMPORTED_MODULE_3__.join)(base, 'tmp');
        (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.mkdirSync)(env.RUNNER_TEMP, { recursive: true, mode: 0o700 });
    }
}
function toolCacheMongoDownloader(logger) {
    return {
        async ensure(url, version) {
            ensureToolCacheEnv();
            return outsideActionsToStderr(async () => {
                const cached = _actions_tool_cache__WEBPACK_IMPORTED_MODULE_0__.find(MONGO_TOOLS_CACHE_NAME, version);
                if (cached) {
                    logger.info(`MongoDB Database Tools ${version} from the tool cache: ${cached}`);
                    return cached;
                }
                logger.info(`downloading ${url}`);
                const archive = await _actions_tool_cache__WEBPACK_IMPORTED_MODULE_0__.downloadTool(url);
                const extracted = await _actions_tool_cache__WEBPACK_IMPORTED_MODULE_0__.extractTar(archive, undefined, 'xz');
                const dir = await _actions_tool_cache__WEBPACK_IMPORTED_MODULE_0__.cacheDir(extracted, MONGO_TOOLS_CACHE_NAME, version);
                logger.info(`MongoDB Database Tools ${version} cached in ${dir}`);
                return dir;
            });
        },
    };
}
/**
 * tool-cache speaks workflow commands (`::debug::`, `[command]tar ...`) on stdout, which the CLI
 * keeps for its --json object; outside Actions they go to stderr while the download runs.
 */
async function outsideActionsToStderr(fn) {
    if (process.env.GITHUB_ACTIONS === 'true')
        return fn();
    const original = process.stdout.write;
    process.stdout.write = process.stderr.write.bind(process.stderr);
    try {
        return await fn();
    }
    finally {
        process.stdout.write = original;
    }
}


/***/ })

};
