/**
 * @swavlab/artifacts: one storage interface for checkpoints and exported backbones, with a filesystem backend
 * (local disk or a shared mount) and an S3-compatible one (see README.md).
 */
export { FileArtifactStore, verifyFile } from './file-store.js';
export { checkKey } from './keys.js';
export { openArtifactStore, type S3Environment, s3ClientFromEnv } from './open-store.js';
export { DEFAULT_PART_BYTES, S3ArtifactStore, type S3StoreOptions } from './s3-store.js';
export { fileSha256 } from './sha256.js';
export { ArtifactCorrupt, ArtifactMissing, type ArtifactStore, type ByteRange } from './store.js';
