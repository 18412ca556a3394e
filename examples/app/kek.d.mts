/** Types for kek.mjs (the sample app is plain JavaScript so it runs with `node`, no build). */
export declare const KEY_FILE_NAME: 'kek.key';
export declare function generateKek(): string;
export declare function parseKek(content: string | Buffer): Buffer;
export declare function kekFingerprint(keyFileContent: string | Buffer): string;
export declare function fingerprintPrefix(fingerprint: string): string;
export declare function sha256Hex(data: string | Buffer): string;
export interface EncryptedValue {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}
export declare function encryptValue(key: string | Buffer, name: string, plaintext: string): EncryptedValue;
export declare function decryptValue(key: string | Buffer, name: string, value: EncryptedValue): string;
