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
