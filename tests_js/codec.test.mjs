// Codec, stores and persistence of static/src/core/masterkey_phone.js (node --test tests_js/).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
    MasterKeyError,
    b64urlDecode,
    b64urlEncode,
    canonical,
    deviceSignedMessage,
    indexedDbStore,
    memoryStore,
    requestPersistence,
} from "../static/src/core/masterkey_phone.js";

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

function assertCode(code) {
    return (exc) => {
        assert.ok(exc instanceof MasterKeyError, `expected MasterKeyError, got ${exc}`);
        assert.equal(exc.code, code);
        return true;
    };
}

describe("b64urlEncode", () => {
    test("RFC 4648 vectors, without padding", () => {
        const vectors = { "": "", f: "Zg", fo: "Zm8", foo: "Zm9v", foob: "Zm9vYg", fooba: "Zm9vYmE", foobar: "Zm9vYmFy" };
        for (const [plain, encoded] of Object.entries(vectors)) {
            assert.equal(b64urlEncode(enc(plain)), encoded);
        }
    });

    test("uses the URL alphabet", () => {
        assert.equal(b64urlEncode(new Uint8Array([0xfb, 0xff])), "-_8");
        assert.equal(b64urlEncode(new Uint8Array([0xfb, 0xef, 0xbe])), "----");
        assert.equal(b64urlEncode(new Uint8Array([0xff, 0xff, 0xff])), "____");
    });

    test("accepts an ArrayBuffer", () => {
        assert.equal(b64urlEncode(enc("foobar").buffer), "Zm9vYmFy");
    });

    test("matches Node's base64url and round-trips for lengths 0..200", () => {
        for (let n = 0; n <= 200; n++) {
            const bytes = crypto.getRandomValues(new Uint8Array(n));
            const text = b64urlEncode(bytes);
            assert.equal(text, Buffer.from(bytes).toString("base64url"));
            assert.deepEqual(b64urlDecode(text), bytes);
        }
    });
});

describe("b64urlDecode", () => {
    test("decodes", () => {
        assert.equal(dec(b64urlDecode("Zm9vYmFy")), "foobar");
        assert.equal(dec(b64urlDecode("Zm9vYg")), "foob");
        assert.deepEqual(b64urlDecode("-_8"), new Uint8Array([0xfb, 0xff]));
        assert.deepEqual(b64urlDecode(""), new Uint8Array(0));
    });

    test("rejects padding, the standard alphabet, whitespace and odd lengths", () => {
        for (const bad of ["Zg==", "Zg=", "Zm8=", "=", "Zm9v+w", "Zm9v/w", "Z", "Zm9vY", " Zg", "Zg ", "Zg\n", "Zm\u00e9v", "Zm9v%", "Zm.9"]) {
            assert.throws(() => b64urlDecode(bad), assertCode("malformed_input"), JSON.stringify(bad));
        }
    });

    test("rejects non-canonical trailing bits", () => {
        assert.throws(() => b64urlDecode("Zh"), assertCode("malformed_input")); // "Zg" is canonical
        assert.throws(() => b64urlDecode("Zm9"), assertCode("malformed_input")); // "Zm8"
        assert.throws(() => b64urlDecode("_-"), assertCode("malformed_input"));
    });

    test("rejects non-strings and over-long input", () => {
        for (const bad of [null, undefined, 12, ["Zg"], new Uint8Array(2)]) {
            assert.throws(() => b64urlDecode(bad), assertCode("malformed_input"));
        }
        assert.throws(() => b64urlDecode("A".repeat(16388)), assertCode("malformed_input"));
    });

    test("checks an expected length and names the field", () => {
        assert.equal(b64urlDecode("Zm9v", { length: 3 }).length, 3);
        assert.throws(
            () => b64urlDecode("Zm9v", { length: 4, field: "nonce" }),
            (exc) => exc.code === "malformed_input" && exc.message === "nonce: expected 4 bytes"
        );
    });
});

describe("canonical", () => {
    test("joins the prefixed label and fields with newlines", () => {
        assert.equal(dec(canonical("envelope", "login", "rid", "eid", 3)), "auth_masterkey/v1/envelope\nlogin\nrid\neid\n3");
        assert.equal(dec(canonical("verifier")), "auth_masterkey/v1/verifier");
        assert.equal(dec(canonical("x", "")), "auth_masterkey/v1/x\n");
    });

    test("encodes UTF-8", () => {
        assert.deepEqual(canonical("x", "é"), new Uint8Array([...enc("auth_masterkey/v1/x\n"), 0xc3, 0xa9]));
    });

    test("rejects fields with line breaks", () => {
        for (const bad of ["a\nb", "a\rb", "\n", "\r\n", "end\n"]) {
            assert.throws(() => canonical("x", "ok", bad), assertCode("malformed_input"));
        }
    });

    test("device message follows device.signed_message", () => {
        const msg = deviceSignedMessage({
            purpose: "login", requestId: "r1", enrolmentId: "e1", challenge: "Y2g",
            origin: "https://odoo.example.com", timestampMs: 1700000000000,
        });
        assert.equal(dec(msg), "auth_masterkey/v1/device-signature\nlogin\nr1\ne1\nY2g\nhttps://odoo.example.com\n1700000000000");
        const base = { purpose: "login", requestId: "r1", enrolmentId: "e1", challenge: "Y2g", origin: "https://o.example", timestampMs: 1 };
        for (const patch of [
            { requestId: "has space" }, { enrolmentId: "" }, { origin: "ftp://x" }, { origin: "https://x\n" },
            { origin: `https://${"a".repeat(250)}` }, { timestampMs: 1.5 }, { timestampMs: "1" },
        ]) {
            assert.throws(() => deviceSignedMessage({ ...base, ...patch }), assertCode("malformed_input"), JSON.stringify(patch));
        }
    });
});

describe("memoryStore", () => {
    test("get / put / delete / keys", async () => {
        const store = memoryStore();
        assert.equal(await store.get("a"), undefined);
        assert.deepEqual(await store.keys(), []);
        await store.put("a", { x: 1 });
        await store.put("b", { x: 2 });
        await store.put("a", { x: 3 });
        assert.deepEqual(await store.get("a"), { x: 3 });
        assert.deepEqual((await store.keys()).sort(), ["a", "b"]);
        await store.delete("a");
        await store.delete("missing");
        assert.equal(await store.get("a"), undefined);
        assert.deepEqual(await store.keys(), ["b"]);
    });

    test("values are copied in and out, like IndexedDB", async () => {
        const store = memoryStore();
        const value = { nested: { n: 1 } };
        await store.put("k", value);
        value.nested.n = 2;
        const got = await store.get("k");
        assert.equal(got.nested.n, 1);
        got.nested.n = 3;
        assert.equal((await store.get("k")).nested.n, 1);
    });

    test("CryptoKeys survive storage and stay non-extractable", async () => {
        const store = memoryStore();
        const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
        const iv = new Uint8Array(12);
        const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, enc("hello"));
        await store.put("k", { key });
        const back = (await store.get("k")).key;
        assert.equal(back.extractable, false);
        assert.equal(dec(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, back, ct)), "hello");
        await assert.rejects(crypto.subtle.exportKey("raw", back));
    });
});

// A minimal in-memory IndexedDB (only what indexedDbStore uses), with async events.
function fakeIndexedDb({ failPut = false } = {}) {
    const databases = new Map();
    const later = (fn) => setTimeout(fn, 0);
    function request(compute, tx) {
        const req = { onsuccess: null, onerror: null, result: undefined, error: null };
        tx.pending++;
        later(() => {
            try {
                req.result = compute();
                req.onsuccess && req.onsuccess();
            } catch (exc) {
                req.error = exc;
                req.onerror && req.onerror();
                tx.aborted = exc;
            }
            if (--tx.pending === 0) {
                later(() => (tx.aborted ? tx.onabort && tx.onabort() : tx.oncomplete && tx.oncomplete()));
            }
        });
        return req;
    }
    return {
        open(name, version) {
            const req = { result: null };
            later(() => {
                let db = databases.get(name);
                if (!db) {
                    const stores = new Map();
                    db = {
                        stores,
                        version,
                        objectStoreNames: { contains: (n) => stores.has(n) },
                        createObjectStore: (n) => stores.set(n, new Map()),
                        close() {},
                        transaction(storeName, mode) {
                            const tx = { pending: 0, aborted: null, error: null };
                            const map = stores.get(storeName);
                            tx.objectStore = () => ({
                                get: (k) => request(() => (map.has(k) ? structuredClone(map.get(k)) : undefined), tx),
                                put: (v, k) => request(() => {
                                    assert.equal(mode, "readwrite");
                                    if (failPut) {
                                        throw new Error("QuotaExceededError");
                                    }
                                    map.set(k, structuredClone(v));
                                    return k;
                                }, tx),
                                delete: (k) => request(() => {
                                    assert.equal(mode, "readwrite");
                                    map.delete(k);
                                }, tx),
                                getAllKeys: () => request(() => [...map.keys()].sort(), tx),
                            });
                            return tx;
                        },
                    };
                    databases.set(name, db);
                    req.result = db;
                    req.onupgradeneeded && req.onupgradeneeded();
                }
                req.result = db;
                req.onsuccess && req.onsuccess();
            });
            return req;
        },
    };
}

async function withGlobal(name, value, fn) {
    const had = Object.prototype.hasOwnProperty.call(globalThis, name);
    const old = Object.getOwnPropertyDescriptor(globalThis, name);
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    try {
        return await fn();
    } finally {
        if (had) {
            Object.defineProperty(globalThis, name, old);
        } else {
            delete globalThis[name];
        }
    }
}

describe("indexedDbStore", () => {
    test("without IndexedDB, every call fails with storage_failed", async () => {
        await withGlobal("indexedDB", undefined, async () => {
            const store = indexedDbStore("t");
            await assert.rejects(store.get("a"), assertCode("storage_failed"));
            await assert.rejects(store.put("a", 1), assertCode("storage_failed"));
        });
    });

    test("get / put / delete / keys on an IndexedDB", async () => {
        await withGlobal("indexedDB", fakeIndexedDb(), async () => {
            const store = indexedDbStore("t");
            assert.equal(await store.get("a"), undefined);
            const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
            await store.put("b", { n: 2 });
            await store.put("a", { n: 1, key });
            const a = await store.get("a");
            assert.equal(a.n, 1);
            assert.equal(a.key.extractable, false);
            assert.deepEqual(await store.keys(), ["a", "b"]);
            await store.delete("a");
            assert.deepEqual(await store.keys(), ["b"]);
            // A second store object on the same database sees the data.
            assert.deepEqual(await indexedDbStore("t").get("b"), { n: 2 });
        });
    });

    test("a failed write is reported as storage_failed", async () => {
        await withGlobal("indexedDB", fakeIndexedDb({ failPut: true }), async () => {
            const store = indexedDbStore("t");
            await assert.rejects(store.put("a", 1), assertCode("storage_failed"));
            assert.equal(await store.get("a"), undefined);
        });
    });
});

describe("requestPersistence", () => {
    test("false without navigator.storage", async () => {
        await withGlobal("navigator", undefined, async () => {
            assert.equal(await requestPersistence(), false);
        });
        await withGlobal("navigator", {}, async () => {
            assert.equal(await requestPersistence(), false);
        });
    });

    test("asks once and reports the answer", async () => {
        let asked = 0;
        const storage = { persisted: async () => false, persist: async () => (++asked, true) };
        await withGlobal("navigator", { storage }, async () => {
            assert.equal(await requestPersistence(), true);
        });
        assert.equal(asked, 1);
        await withGlobal("navigator", { storage: { persist: async () => false } }, async () => {
            assert.equal(await requestPersistence(), false);
        });
    });

    test("already persistent: true without asking", async () => {
        const storage = { persisted: async () => true, persist: async () => assert.fail("asked") };
        await withGlobal("navigator", { storage }, async () => {
            assert.equal(await requestPersistence(), true);
        });
    });

    test("never throws", async () => {
        const storage = { persisted: async () => false, persist: async () => { throw new Error("nope"); } };
        await withGlobal("navigator", { storage }, async () => {
            assert.equal(await requestPersistence(), false);
        });
        const throwing = {};
        Object.defineProperty(throwing, "storage", { get() { throw new Error("SecurityError"); } });
        await withGlobal("navigator", throwing, async () => {
            assert.equal(await requestPersistence(), false);
        });
    });
});
