/** dbdrill's own version, recorded in every manifest and report. Kept in step with package.json by a test. */
export const DBDRILL_VERSION = '0.1.0';
