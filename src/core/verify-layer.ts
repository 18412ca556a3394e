/**
 * One named check of a bundle and its verdict. It sits in a leaf module so that the engines' and
 * crypto's layers and the inspection walk that orders them share one shape without importing each
 * other.
 */
export interface VerifyLayer {
  name: string;
  ok: boolean;
  /** Did not run (and says why in `detail`); a skipped layer never fails a verification. */
  skipped?: boolean;
  detail: string;
}

/**
 * The `manifest` layer of a dump another tool wrote (a bare file, directory or tarball): it has
 * no dbdrill manifest, so the layers that hold members against one cannot run. Skipped, never
 * failed, and it says which checks that leaves out, so a reader of the report sees the gap.
 */
export function manifestNotApplicable(what: string, counts = 'table counts'): VerifyLayer {
  return {
    name: 'manifest',
    ok: true,
    skipped: true,
    detail: `not applicable: ${what} has no manifest, so member checksums, ${counts} and secret files are not checked`,
  };
}
