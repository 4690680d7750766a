/**
 * auth_masterkey — phone side ("browser twin" of masterkey_core).
 *
 * A plain ES module: no Odoo imports, WebCrypto only (globalThis.crypto.subtle), so it runs
 * in a browser and, for tests, in Node >= 20. Every byte it produces or checks matches the
 * Python core (masterkey_core/codec.py, envelope.py, device.py, shares.py):
 *
 * - Factor 1 (split credential): the phone keeps a 32-byte share and sends it to the server
 *   sealed in an envelope: ECDH P-256 (phone ephemeral x server ephemeral) -> HKDF-SHA256
 *   (salt = request id, info = "auth_masterkey/v1/envelope/<purpose>") -> AES-256-GCM, with
 *   associated data binding purpose, request, enrolment, generation and both public keys.
 *   After each login the server answers with a "rotate" envelope holding a delta D; the new
 *   share is share XOR D and replaces the old one only once that envelope has been opened.
 * - Factor 2 (device signature): a non-extractable ECDSA P-256 key signs
 *   canonical("device-signature", purpose, request id, enrolment id, challenge, origin, ms).
 *
 * At rest, the share is AES-GCM encrypted under a non-extractable AES-256 CryptoKey; both the
 * ciphertext and the CryptoKey live in a pluggable store (IndexedDB in the browser).
 *
 * Secrets (shares, deltas, private keys) never leave this module: no function returns them
 * and no error message contains them.
 */

const PREFIX = "auth_masterkey/v1/";
const SHARE_LEN = 32;
const NONCE_LEN = 12;
const TAG_LEN = 16;
const RAW_PUBLIC_LEN = 65;
const SIGNATURE_LEN = 64;
const ENVELOPE_VERSION = 1;
const MAX_GEN = 2 ** 31;
const MAX_B64_CHARS = 16384;
const TOKEN_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;
const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_LOOKUP = (() => {
    const table = new Int16Array(128).fill(-1);
    for (let i = 0; i < B64_ALPHABET.length; i++) {
        table[B64_ALPHABET.charCodeAt(i)] = i;
    }
    return table;
})();
const ECDH_PARAMS = { name: "ECDH", namedCurve: "P-256" };
const ECDSA_PARAMS = { name: "ECDSA", namedCurve: "P-256" };

/** Device-signature purposes accepted by {@link PhoneVault#startLogin}. */
export const LOGIN_PURPOSES = Object.freeze(["login", "approve"]);
/** Device-signature purposes accepted by {@link PhoneVault#sign}. */
export const SIGN_PURPOSES = Object.freeze(["login", "approve", "deny"]);

/**
 * Error raised by this module. `code` is stable and mirrors masterkey_core.errors where the
 * meaning is the same: "malformed_input", "verification_failed", plus phone-side codes
 * "crypto_unavailable", "not_enrolled", "already_enrolled", "origin_mismatch",
 * "stale_state", "already_finished", "storage_failed". Messages never contain secrets.
 */
export class MasterKeyError extends Error {
    /**
     * @param {string} code stable machine-readable code
     * @param {string} message safe to show
     * @param {{cause?: unknown}} [options]
     */
    constructor(code, message, options) {
        super(message, options);
        this.name = "MasterKeyError";
        /** @type {string} */
        this.code = code;
    }
}

function malformed(message) {
    return new MasterKeyError("malformed_input", message);
}

function subtle() {
    const s = globalThis.crypto && globalThis.crypto.subtle;
    if (!s) {
        throw new MasterKeyError(
            "crypto_unavailable",
            "WebCrypto is not available (the page must be served over HTTPS)."
        );
    }
    return s;
}

function randomBytes(n) {
    const out = new Uint8Array(n);
    globalThis.crypto.getRandomValues(out);
    return out;
}

/** Runs a WebCrypto step; any failure becomes a MasterKeyError with the given code. */
async function cryptoStep(code, message, fn) {
    try {
        return await fn();
    } catch (exc) {
        if (exc instanceof MasterKeyError) {
            throw exc;
        }
        throw new MasterKeyError(code, message, { cause: exc });
    }
}

// ---------------------------------------------------------------------------------------
// Codec
// ---------------------------------------------------------------------------------------

/**
 * Encodes bytes as base64url without padding (RFC 4648 §5), as codec.b64url_encode.
 * @param {Uint8Array|ArrayBuffer} data
 * @returns {string}
 */
export function b64urlEncode(data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    let out = "";
    let i = 0;
    for (; i + 2 < bytes.length; i += 3) {
        const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        out += B64_ALPHABET[v >> 18] + B64_ALPHABET[(v >> 12) & 63] +
            B64_ALPHABET[(v >> 6) & 63] + B64_ALPHABET[v & 63];
    }
    const rest = bytes.length - i;
    if (rest === 1) {
        const v = bytes[i] << 16;
        out += B64_ALPHABET[v >> 18] + B64_ALPHABET[(v >> 12) & 63];
    } else if (rest === 2) {
        const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
        out += B64_ALPHABET[v >> 18] + B64_ALPHABET[(v >> 12) & 63] + B64_ALPHABET[(v >> 6) & 63];
    }
    return out;
}

/**
 * Strictly decodes unpadded base64url, as codec.b64url_decode: padding, whitespace, "+" "/",
 * an impossible length or non-zero trailing bits are refused.
 * @param {string} value
 * @param {{length?: number, field?: string}} [options] expected byte length; field name for messages
 * @returns {Uint8Array}
 * @throws {MasterKeyError} code "malformed_input"
 */
export function b64urlDecode(value, { length, field = "value" } = {}) {
    if (typeof value !== "string") {
        throw malformed(`${field}: expected a base64url string`);
    }
    if (value.length > MAX_B64_CHARS || !B64URL_RE.test(value) || value.length % 4 === 1) {
        throw malformed(`${field}: not valid base64url`);
    }
    const out = new Uint8Array(Math.floor((value.length * 3) / 4));
    let acc = 0;
    let bits = 0;
    let o = 0;
    for (let i = 0; i < value.length; i++) {
        acc = (acc << 6) | B64_LOOKUP[value.charCodeAt(i)];
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (acc >> bits) & 0xff;
            acc &= (1 << bits) - 1;
        }
    }
    if (acc !== 0) {
        throw malformed(`${field}: not canonical base64url`);
    }
    if (length !== undefined && out.length !== length) {
        throw malformed(`${field}: expected ${length} bytes`);
    }
    return out;
}

/**
 * Domain-separated message, as codec.canonical: UTF-8 of
 * ["auth_masterkey/v1/" + label, ...fields.map(String)].join("\n").
 * @param {string} label
 * @param {...(string|number)} fields
 * @returns {Uint8Array}
 * @throws {MasterKeyError} "malformed_input" if a field contains a line break
 */
export function canonical(label, ...fields) {
    const parts = [PREFIX + label];
    for (const value of fields) {
        const text = String(value);
        if (text.includes("\n") || text.includes("\r")) {
            throw malformed("a message field contains a line break");
        }
        parts.push(text);
    }
    return new TextEncoder().encode(parts.join("\n"));
}

function requireToken(value, field) {
    if (typeof value !== "string" || !TOKEN_RE.test(value)) {
        throw malformed(`${field}: not a valid identifier`);
    }
    return value;
}

function requireOrigin(value) {
    if (
        typeof value !== "string" || value.length > 256 || /[\r\n]/.test(value) ||
        !(value.startsWith("https://") || value.startsWith("http://"))
    ) {
        throw malformed("origin: expected an http(s) origin");
    }
    return value;
}

function requireChallenge(value) {
    b64urlDecode(value, { field: "challenge" });
    if (!value) {
        throw malformed("challenge: empty");
    }
    return value;
}

function requirePurpose(value, allowed, field = "purpose") {
    if (!allowed.includes(value)) {
        throw malformed(`${field}: expected one of ${allowed.join(", ")}`);
    }
    return value;
}

function xorShares(a, b) {
    if (a.length !== SHARE_LEN || b.length !== SHARE_LEN) {
        throw malformed("share: expected 32 bytes");
    }
    const out = new Uint8Array(SHARE_LEN);
    for (let i = 0; i < SHARE_LEN; i++) {
        out[i] = a[i] ^ b[i];
    }
    return out;
}

function bytesEqual(a, b) {
    if (a.length !== b.length) {
        return false;
    }
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
        diff |= a[i] ^ b[i];
    }
    return diff === 0;
}

// ---------------------------------------------------------------------------------------
// Envelope (envelope.py)
// ---------------------------------------------------------------------------------------

/**
 * Imports the server's ephemeral P-256 key (65-byte uncompressed point, base64url).
 * WebCrypto validates that the point is on the curve.
 * @param {string} serverPub
 * @returns {Promise<{key: CryptoKey, raw: Uint8Array}>}
 */
async function importServerKey(serverPub) {
    const raw = b64urlDecode(serverPub, { length: RAW_PUBLIC_LEN, field: "server key" });
    if (raw[0] !== 0x04) {
        throw malformed("server key: expected an uncompressed P-256 point");
    }
    const key = await cryptoStep("malformed_input", "server key: not a valid P-256 point", () =>
        subtle().importKey("raw", raw, ECDH_PARAMS, false, [])
    );
    return { key, raw };
}

/** HKDF-SHA256(ikm = ECDH x, salt = request id, info = envelope/<purpose>) -> AES-256-GCM key. */
async function envelopeKey(privateKey, peerPublicKey, purpose, requestId) {
    const s = subtle();
    const shared = await s.deriveBits({ name: "ECDH", public: peerPublicKey }, privateKey, 256);
    const ikm = await s.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    return s.deriveKey(
        {
            name: "HKDF",
            hash: "SHA-256",
            salt: new TextEncoder().encode(requestId),
            info: new TextEncoder().encode(`${PREFIX}envelope/${purpose}`),
        },
        ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"]
    );
}

function envelopeAad(purpose, requestId, enrolmentId, gen, phonePubRaw, serverPubRaw) {
    return canonical(
        "envelope", purpose, requestId, enrolmentId, gen,
        b64urlEncode(phonePubRaw), b64urlEncode(serverPubRaw)
    );
}

/**
 * A fresh, non-extractable ECDH key for one request, bound to the server's key of that
 * request. Seals the share to the server and opens the server's rotation reply.
 */
class EphemeralExchange {
    /**
     * @param {CryptoKeyPair} keyPair
     * @param {Uint8Array} phonePubRaw
     * @param {{key: CryptoKey, raw: Uint8Array}} server
     */
    constructor(keyPair, phonePubRaw, server) {
        this.keyPair = keyPair;
        this.phonePubRaw = phonePubRaw;
        this.server = server;
    }

    /** @param {string} serverPub base64url raw point */
    static async create(serverPub) {
        const server = await importServerKey(serverPub);
        return cryptoStep("crypto_unavailable", "Could not create an ephemeral key.", async () => {
            const keyPair = await subtle().generateKey(ECDH_PARAMS, false, ["deriveBits"]);
            const phonePubRaw = new Uint8Array(await subtle().exportKey("raw", keyPair.publicKey));
            return new EphemeralExchange(keyPair, phonePubRaw, server);
        });
    }

    /** envelope._seal for the phone -> server direction; returns the wire envelope. */
    async seal({ purpose, requestId, enrolmentId, gen, plaintext }) {
        return cryptoStep("crypto_unavailable", "Could not seal the envelope.", async () => {
            const key = await envelopeKey(this.keyPair.privateKey, this.server.key, purpose, requestId);
            const nonce = randomBytes(NONCE_LEN);
            const aad = envelopeAad(purpose, requestId, enrolmentId, gen, this.phonePubRaw, this.server.raw);
            const ct = new Uint8Array(
                await subtle().encrypt(
                    { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, plaintext
                )
            );
            return {
                v: ENVELOPE_VERSION,
                purpose,
                rid: requestId,
                gen,
                epk: b64urlEncode(this.phonePubRaw),
                n: b64urlEncode(nonce),
                ct: b64urlEncode(ct),
            };
        });
    }

    /**
     * envelope.open_from_server: checks the reply is a "rotate" envelope for this request and
     * this phone key, at a generation >= minGen, then decrypts it. Returns {plaintext, gen}.
     */
    async openRotation(envelope, { requestId, enrolmentId, minGen = 0 }) {
        if (!envelope || typeof envelope !== "object" || Array.isArray(envelope)) {
            throw malformed("envelope: expected an object");
        }
        if (envelope.v !== ENVELOPE_VERSION) {
            throw malformed("envelope: unsupported version");
        }
        if (envelope.purpose !== "rotate") {
            throw malformed("envelope: wrong purpose");
        }
        if (envelope.rid !== requestId) {
            throw malformed("envelope: belongs to another request");
        }
        const gen = envelope.gen;
        if (!Number.isSafeInteger(gen) || gen < 0 || gen > MAX_GEN) {
            throw malformed("envelope gen: expected an integer");
        }
        if (gen < minGen) {
            throw malformed("envelope gen: does not move forward");
        }
        const epk = b64urlDecode(envelope.epk, { length: RAW_PUBLIC_LEN, field: "envelope epk" });
        if (!bytesEqual(epk, this.phonePubRaw)) {
            throw malformed("envelope: addressed to another phone key");
        }
        if (envelope.spk !== undefined) {
            const spk = b64urlDecode(envelope.spk, { length: RAW_PUBLIC_LEN, field: "envelope spk" });
            if (!bytesEqual(spk, this.server.raw)) {
                throw malformed("envelope: sealed by another server key");
            }
        }
        const nonce = b64urlDecode(envelope.n, { length: NONCE_LEN, field: "envelope nonce" });
        const ct = b64urlDecode(envelope.ct, { length: SHARE_LEN + TAG_LEN, field: "envelope ct" });
        const aad = envelopeAad("rotate", requestId, enrolmentId, gen, this.phonePubRaw, this.server.raw);
        const plaintext = await cryptoStep(
            "verification_failed",
            "The envelope could not be opened: it was altered or is for another request.",
            async () => {
                const key = await envelopeKey(this.keyPair.privateKey, this.server.key, "rotate", requestId);
                return new Uint8Array(
                    await subtle().decrypt(
                        { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, ct
                    )
                );
            }
        );
        return { plaintext, gen };
    }
}

// ---------------------------------------------------------------------------------------
// Device signature (device.py)
// ---------------------------------------------------------------------------------------

/**
 * The bytes the device key signs, as device.signed_message.
 * @returns {Uint8Array}
 */
export function deviceSignedMessage({ purpose, requestId, enrolmentId, challenge, origin, timestampMs }) {
    requireToken(requestId, "request id");
    requireToken(enrolmentId, "enrolment id");
    requireOrigin(origin);
    if (!Number.isSafeInteger(timestampMs)) {
        throw malformed("timestamp: expected an integer");
    }
    return canonical("device-signature", purpose, requestId, enrolmentId, challenge, origin, timestampMs);
}

async function deviceSign(privateKey, fields) {
    const timestampMs = Date.now();
    const message = deviceSignedMessage({ ...fields, timestampMs });
    const signature = await cryptoStep("crypto_unavailable", "The device key could not sign.", async () =>
        new Uint8Array(await subtle().sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, message))
    );
    if (signature.length !== SIGNATURE_LEN) {
        throw new MasterKeyError("crypto_unavailable", "Unexpected signature format.");
    }
    return { signature: b64urlEncode(signature), timestampMs };
}

// ---------------------------------------------------------------------------------------
// Share at rest
// ---------------------------------------------------------------------------------------

function storageAad(enrolmentId, gen) {
    return canonical("stored-share", enrolmentId, gen);
}

async function wrapShare(wrapKey, share, enrolmentId, gen) {
    return cryptoStep("crypto_unavailable", "Could not encrypt the credential for storage.", async () => {
        const nonce = randomBytes(NONCE_LEN);
        const ct = await subtle().encrypt(
            { name: "AES-GCM", iv: nonce, additionalData: storageAad(enrolmentId, gen) }, wrapKey, share
        );
        return { n: b64urlEncode(nonce), ct: b64urlEncode(new Uint8Array(ct)) };
    });
}

async function unwrapShare(record) {
    const { wrapKey, wrappedShare, enrolmentId, gen } = record;
    return cryptoStep("verification_failed", "The stored credential failed its integrity check.", async () => {
        const share = new Uint8Array(
            await subtle().decrypt(
                {
                    name: "AES-GCM",
                    iv: b64urlDecode(wrappedShare.n, { length: NONCE_LEN, field: "stored nonce" }),
                    additionalData: storageAad(enrolmentId, gen),
                },
                wrapKey,
                b64urlDecode(wrappedShare.ct, { field: "stored share" })
            )
        );
        if (share.length !== SHARE_LEN) {
            throw new MasterKeyError("verification_failed", "The stored credential has a wrong size.");
        }
        return share;
    });
}

// ---------------------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------------------

/**
 * @typedef {Object} Store
 * @property {(key: string) => Promise<any>} get resolves undefined when absent
 * @property {(key: string, value: any) => Promise<void>} put atomic replace of one record
 * @property {(key: string) => Promise<void>} delete
 * @property {() => Promise<string[]>} keys
 */

/**
 * In-memory store with IndexedDB-like semantics (values are structured-cloned in and out,
 * so CryptoKey objects survive and callers cannot mutate stored records). For tests.
 * @returns {Store}
 */
export function memoryStore() {
    const map = new Map();
    return {
        async get(key) {
            return map.has(key) ? structuredClone(map.get(key)) : undefined;
        },
        async put(key, value) {
            map.set(key, structuredClone(value));
        },
        async delete(key) {
            map.delete(key);
        },
        async keys() {
            return [...map.keys()];
        },
    };
}

function idbRequest(request) {
    return new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
}

/**
 * The browser store: one IndexedDB database holding an object store "enrolments". Each put
 * is one readwrite transaction, so a record is replaced atomically.
 * @param {string} [dbName]
 * @returns {Store}
 */
export function indexedDbStore(dbName = "auth_masterkey") {
    const STORE = "enrolments";
    let dbPromise = null;

    function open() {
        if (!dbPromise) {
            if (!globalThis.indexedDB) {
                return Promise.reject(
                    new MasterKeyError("storage_failed", "This browser has no IndexedDB storage.")
                );
            }
            dbPromise = new Promise((resolve, reject) => {
                const request = globalThis.indexedDB.open(dbName, 1);
                request.onupgradeneeded = () => {
                    if (!request.result.objectStoreNames.contains(STORE)) {
                        request.result.createObjectStore(STORE);
                    }
                };
                request.onsuccess = () => {
                    const db = request.result;
                    // Another tab upgrading the schema: let it, reopen on next use.
                    db.onversionchange = () => {
                        db.close();
                        dbPromise = null;
                    };
                    resolve(db);
                };
                request.onerror = () => reject(request.error);
            }).catch((exc) => {
                dbPromise = null;
                throw new MasterKeyError("storage_failed", "Could not open the credential storage.", {
                    cause: exc,
                });
            });
        }
        return dbPromise;
    }

    async function run(mode, fn) {
        const db = await open();
        try {
            return await new Promise((resolve, reject) => {
                const tx = db.transaction(STORE, mode);
                let result;
                idbRequest(fn(tx.objectStore(STORE))).then((value) => {
                    result = value;
                }, reject);
                tx.oncomplete = () => resolve(result);
                tx.onerror = () => reject(tx.error);
                tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
            });
        } catch (exc) {
            throw new MasterKeyError("storage_failed", "The credential storage failed.", { cause: exc });
        }
    }

    return {
        get: (key) => run("readonly", (s) => s.get(key)),
        put: async (key, value) => {
            await run("readwrite", (s) => s.put(value, key));
        },
        delete: async (key) => {
            await run("readwrite", (s) => s.delete(key));
        },
        keys: async () => (await run("readonly", (s) => s.getAllKeys())).map(String),
    };
}

/**
 * Asks the browser to keep this origin's storage under storage pressure, so the credential
 * is not evicted. Never throws.
 * @returns {Promise<boolean>} true when storage is (now) persistent
 */
export async function requestPersistence() {
    try {
        const storage = globalThis.navigator && globalThis.navigator.storage;
        if (!storage || typeof storage.persist !== "function") {
            return false;
        }
        if (typeof storage.persisted === "function" && (await storage.persisted())) {
            return true;
        }
        return Boolean(await storage.persist());
    } catch {
        return false;
    }
}

// ---------------------------------------------------------------------------------------
// Vault
// ---------------------------------------------------------------------------------------

/**
 * @typedef {Object} EnrolmentInfo
 * @property {string} enrolmentId
 * @property {string} origin
 * @property {string} label
 * @property {number} gen share generation held by this phone
 */

/**
 * The phone's credentials, one record per enrolment:
 * {enrolmentId, origin, label, gen, wrappedShare: {n, ct}, wrapKey, deviceKey}.
 */
export class PhoneVault {
    /** @param {Store} [store] defaults to {@link indexedDbStore}() */
    constructor(store = indexedDbStore()) {
        for (const method of ["get", "put", "delete", "keys"]) {
            if (!store || typeof store[method] !== "function") {
                throw new TypeError(`store.${method} must be a function`);
            }
        }
        this.store = store;
    }

    async _storeCall(fn) {
        try {
            return await fn();
        } catch (exc) {
            if (exc instanceof MasterKeyError) {
                throw exc;
            }
            throw new MasterKeyError("storage_failed", "The credential storage failed.", { cause: exc });
        }
    }

    async _record(enrolmentId) {
        requireToken(enrolmentId, "enrolment id");
        const record = await this._storeCall(() => this.store.get(enrolmentId));
        if (!record) {
            throw new MasterKeyError("not_enrolled", "This phone holds no credential for this enrolment.");
        }
        return record;
    }

    /**
     * Creates the credential for a new enrolment: a random share (sealed to the server in an
     * "enrol" envelope, generation 0) and a non-extractable device key that signs the
     * challenge. The record is stored in one write at the end; if anything fails nothing is
     * stored. If the server then refuses the enrolment, call {@link PhoneVault#remove}.
     *
     * @param {{enrolmentId: string, requestId: string, serverPub: string, challenge: string,
     *          origin: string, label?: string}} params serverPub: base64url 65-byte point
     * @returns {Promise<{envelope: object, devicePublicKey: string, signature: string, timestampMs: number}>}
     */
    async enrol({ enrolmentId, requestId, serverPub, challenge, origin, label = "" }) {
        requireToken(enrolmentId, "enrolment id");
        requireToken(requestId, "request id");
        requireChallenge(challenge);
        requireOrigin(origin);
        if (typeof label !== "string" || label.length > 256) {
            throw malformed("label: expected a short text");
        }
        if (await this._storeCall(() => this.store.get(enrolmentId))) {
            throw new MasterKeyError("already_enrolled", "This phone is already enrolled under this id.");
        }
        const exchange = await EphemeralExchange.create(serverPub);
        const { deviceKey, wrapKey, devicePublicRaw } = await cryptoStep(
            "crypto_unavailable", "Could not create the device keys.", async () => {
                const s = subtle();
                const deviceKey = await s.generateKey(ECDSA_PARAMS, false, ["sign", "verify"]);
                const wrapKey = await s.generateKey({ name: "AES-GCM", length: 256 }, false, [
                    "encrypt", "decrypt",
                ]);
                const devicePublicRaw = new Uint8Array(await s.exportKey("raw", deviceKey.publicKey));
                return { deviceKey, wrapKey, devicePublicRaw };
            }
        );
        const share = randomBytes(SHARE_LEN);
        const gen = 0;
        const envelope = await exchange.seal({ purpose: "enrol", requestId, enrolmentId, gen, plaintext: share });
        const { signature, timestampMs } = await deviceSign(deviceKey.privateKey, {
            purpose: "enrol", requestId, enrolmentId, challenge, origin,
        });
        const wrappedShare = await wrapShare(wrapKey, share, enrolmentId, gen);
        share.fill(0);
        await this._storeCall(() =>
            this.store.put(enrolmentId, { enrolmentId, origin, label, gen, wrappedShare, wrapKey, deviceKey })
        );
        return { envelope, devicePublicKey: b64urlEncode(devicePublicRaw), signature, timestampMs };
    }

    /**
     * The enrolments this phone holds (no secrets).
     * @returns {Promise<EnrolmentInfo[]>}
     */
    async list() {
        const keys = await this._storeCall(() => this.store.keys());
        const out = [];
        for (const key of keys) {
            const record = await this._storeCall(() => this.store.get(key));
            if (record) {
                out.push({ enrolmentId: record.enrolmentId, origin: record.origin, label: record.label, gen: record.gen });
            }
        }
        return out;
    }

    /**
     * @param {string} enrolmentId
     * @returns {Promise<boolean>}
     */
    async has(enrolmentId) {
        requireToken(enrolmentId, "enrolment id");
        return Boolean(await this._storeCall(() => this.store.get(enrolmentId)));
    }

    /**
     * Forgets an enrolment (its share and keys). Removing an unknown id is not an error.
     * @param {string} enrolmentId
     */
    async remove(enrolmentId) {
        requireToken(enrolmentId, "enrolment id");
        await this._storeCall(() => this.store.delete(enrolmentId));
    }

    /**
     * First half of a login: seals the current share to the server's ephemeral key in a
     * "login" envelope and signs the challenge with the device key (signature purpose
     * `purpose`: "login", or "approve" to approve a QR workstation login).
     *
     * `finish(rotationEnvelope)` opens the server's "rotate" reply with the same ephemeral key,
     * and only if it opens (right request, this phone key, untampered) replaces the stored
     * share with share XOR delta at the new generation, in one store write. On failure the
     * stored share is unchanged (still valid on the server) and finish may be retried.
     *
     * @param {{enrolmentId: string, requestId: string, serverPub: string, challenge: string,
     *          origin?: string, purpose?: "login"|"approve"}} params origin defaults to the
     *          enrolment's origin and must equal it
     * @returns {Promise<{envelope: object, signature: string, timestampMs: number, gen: number,
     *          finish: (rotationEnvelope: object) => Promise<{gen: number}>}>}
     */
    async startLogin({ enrolmentId, requestId, serverPub, challenge, origin, purpose = "login" }) {
        requireToken(requestId, "request id");
        requireChallenge(challenge);
        requirePurpose(purpose, LOGIN_PURPOSES);
        const record = await this._record(enrolmentId);
        origin = this._checkOrigin(record, origin);
        let exchange = await EphemeralExchange.create(serverPub);
        const share = await unwrapShare(record);
        const loginGen = record.gen;
        let envelope;
        try {
            envelope = await exchange.seal({ purpose: "login", requestId, enrolmentId, gen: loginGen, plaintext: share });
        } finally {
            share.fill(0);
        }
        const { signature, timestampMs } = await deviceSign(record.deviceKey.privateKey, {
            purpose, requestId, enrolmentId, challenge, origin,
        });
        const finish = async (rotationEnvelope) => {
            if (!exchange) {
                throw new MasterKeyError("already_finished", "This login was already completed.");
            }
            const { plaintext: delta, gen } = await exchange.openRotation(rotationEnvelope, {
                requestId, enrolmentId, minGen: loginGen + 1,
            });
            const current = await this._record(enrolmentId);
            if (
                current.gen !== loginGen ||
                current.wrappedShare.n !== record.wrappedShare.n ||
                current.wrappedShare.ct !== record.wrappedShare.ct
            ) {
                throw new MasterKeyError("stale_state", "The stored credential changed during this login.");
            }
            const old = await unwrapShare(current);
            const next = xorShares(old, delta);
            old.fill(0);
            delta.fill(0);
            const wrappedShare = await wrapShare(current.wrapKey, next, enrolmentId, gen);
            next.fill(0);
            await this._storeCall(() => this.store.put(enrolmentId, { ...current, gen, wrappedShare }));
            exchange = null; // single use: drop the ephemeral private key
            return { gen };
        };
        return { envelope, signature, timestampMs, gen: loginGen, finish };
    }

    /**
     * Signs a challenge with the device key only (no share is sent), e.g. purpose "deny" to
     * refuse a QR workstation login.
     * @param {{enrolmentId: string, purpose: "login"|"approve"|"deny", requestId: string,
     *          challenge: string, origin?: string}} params
     * @returns {Promise<{signature: string, timestampMs: number}>}
     */
    async sign({ enrolmentId, purpose, requestId, challenge, origin }) {
        requirePurpose(purpose, SIGN_PURPOSES);
        requireToken(requestId, "request id");
        requireChallenge(challenge);
        const record = await this._record(enrolmentId);
        origin = this._checkOrigin(record, origin);
        return deviceSign(record.deviceKey.privateKey, { purpose, requestId, enrolmentId, challenge, origin });
    }

    _checkOrigin(record, origin) {
        if (origin === undefined || origin === null) {
            return record.origin;
        }
        requireOrigin(origin);
        if (origin !== record.origin) {
            throw new MasterKeyError("origin_mismatch", "This credential belongs to another site.");
        }
        return origin;
    }
}
