/**
 * Files Kapibara reads from its own package, located from this module: dist/src/ when it
 * runs as modules, dist/start/ when it runs as the start bundle (scripts/build-start.js).
 * Both are two levels below the package and beside dist/sdk/.
 */
const HERE = new URL('./', import.meta.url);

export const PACKAGE_JSON = new URL('../../package.json', HERE);
/** Where scripts/build-sdk.js writes the browser SDK's bundles. */
export const SDK_BUNDLE_DIR = new URL('../sdk/', HERE);
