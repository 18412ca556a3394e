export const id = 88;
export const ids = [88];
export const modules = {

/***/ 17088:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   verify: () => (/* binding */ verify)
/* harmony export */ });
/* harmony import */ var _catalog_index_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(39100);
/* harmony import */ var _encryption_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(77863);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1454);
/* harmony import */ var _inspection_index_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(69856);
/**
 * The verify use case: find the bundle (the catalog), inspect it layer by layer (inspection) with
 * the run's max-age, log each layer, record the outcome beside the bundle, and fail with
 * CheckFailed (carrying the result) when any layer failed.
 */




/** verify for the CLI and the action: throws CheckFailed (with the result) when a layer fails. */
async function verify(deps, options) {
    if (!deps.decrypt)
        deps = { ...deps, decrypt: await (0,_encryption_js__WEBPACK_IMPORTED_MODULE_1__/* .decryptHook */ .b9)(deps.logger, options, deps.label) };
    const location = options.bundle
        ? (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .locateBundle */ .$G)(deps, options.bundle)
        : await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .resolveNewest */ .zz)(deps.openStore(options.store), options.name);
    deps.logger.info(`Verifying ${location.display}`);
    const inspect = {
        deep: options.deep,
        maxAgeSeconds: options.maxAgeSeconds,
        pgBinDir: options.pgBinDir,
        pgClient: options.pgClient,
    };
    // A bare pg_dump -Fd directory on disk is in no store: read in place, recorded nowhere.
    const bareDir = await (0,_inspection_index_js__WEBPACK_IMPORTED_MODULE_3__/* .isBareDumpDirectory */ .ih)(options.bundle, deps.engines);
    const result = bareDir
        ? await (0,_inspection_index_js__WEBPACK_IMPORTED_MODULE_3__/* .inspectDumpDirectory */ .wT)(deps, options.bundle, inspect)
        : await (0,_inspection_index_js__WEBPACK_IMPORTED_MODULE_3__/* .inspectBundle */ .rI)(deps, location, inspect);
    for (const layer of result.layers) {
        const mark = layer.skipped ? 'skip' : layer.ok ? ' ok ' : 'FAIL';
        deps.logger.info(`[${mark}] ${layer.name}: ${layer.detail}`);
    }
    if (!bareDir)
        await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .recordVerifyOutcome */ .pz)(deps, location, result, options.deep);
    if (!result.ok) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_2__/* .CheckFailed */ .EC(result.inconclusive
            ? `could not verify ${location.display}: ${result.inconclusive}`
            : `verification failed for ${location.display}: ${result.problems.join('; ')}`, result);
    }
    return result;
}


/***/ })

};
