// PhoneVault of static/src/core/masterkey_phone.js against a WebCrypto server twin that
// mirrors masterkey_core.envelope / device / shares (node --test tests_js/).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import {
    MasterKeyError,
    PhoneVault,
    b64urlDecode,
    b64urlEncode,
    canonical,
    deviceSignedMessage,
    memoryStore,
} from "../static/src/core/masterkey_phone.js";

const subtle = globalThis.crypto.subtle;
const ORIGIN = "https://odoo.example.com";
const ECDH = { name: "ECDH", namedCurve: "P-256" };

function assertCode(code) {
    return (exc) => {
        assert.ok(exc instanceof MasterKeyError, `expected MasterKeyError, got ${exc && exc.stack}`);
        assert.equal(exc.code, code, exc.message);
        return true;
    };
}

const rand = (n) => crypto.getRandomValues(new Uint8Array(n));
const xor = (a, b) => a.map((x, i) => x ^ b[i]);
let counter = 0;
const newId = (prefix) => `${prefix}-${++counter}-${b64urlEncode(rand(6))}`;

/** Flips one bit of a base64url field, keeping it canonical base64url. */
function flip(value, index = 0) {
    const bytes = b64urlDecode(value);
    bytes[index] ^= 0x01;
    return b64urlEncode(bytes);
}

// ---- server twin (mirrors envelope.py) -------------------------------------------------

async function envelopeKey(privateKey, peerRaw, purpose, rid) {
    const peer = await subtle.importKey("raw", peerRaw, ECDH, false, []);
    const shared = await subtle.deriveBits({ name: "ECDH", public: peer }, privateKey, 256);
    const ikm = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    return subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new TextEncoder().encode(rid), info: new TextEncoder().encode(`auth_masterkey/v1/envelope/${purpose}`) },
        ikm, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"],
    );
}

const aad = (purpose, rid, eid, gen, phonePub, serverPub) =>
    canonical("envelope", purpose, rid, eid, gen, b64urlEncode(phonePub), b64urlEncode(serverPub));

/** One server request: a fresh ephemeral key and challenge. */
class ServerRequest {
    static async create(enrolmentId) {
        const req = new ServerRequest();
        req.enrolmentId = enrolmentId;
        req.requestId = newId("rid");
        req.challenge = b64urlEncode(rand(32));
        req.key = await subtle.generateKey(ECDH, true, ["deriveBits"]);
        req.pubRaw = new Uint8Array(await subtle.exportKey("raw", req.key.publicKey));
        req.serverPub = b64urlEncode(req.pubRaw);
        return req;
    }

    params(extra = {}) {
        return { enrolmentId: this.enrolmentId, requestId: this.requestId, serverPub: this.serverPub, challenge: this.challenge, origin: ORIGIN, ...extra };
    }

    /** envelope.open_from_phone; returns {plaintext, gen, epk}. */
    async open(env, purpose, enrolmentId = this.enrolmentId) {
        assert.equal(env.v, 1);
        assert.equal(env.purpose, purpose);
        assert.equal(env.rid, this.requestId);
        assert.deepEqual(Object.keys(env).sort(), ["ct", "epk", "gen", "n", "purpose", "rid", "v"]);
        const epk = b64urlDecode(env.epk, { length: 65 });
        const key = await envelopeKey(this.key.privateKey, epk, purpose, this.requestId);
        const plaintext = new Uint8Array(await subtle.decrypt(
            { name: "AES-GCM", iv: b64urlDecode(env.n, { length: 12 }), additionalData: aad(purpose, this.requestId, enrolmentId, env.gen, epk, this.pubRaw) },
            key, b64urlDecode(env.ct),
        ));
        return { plaintext, gen: env.gen, epk };
    }

    /** envelope.seal_for_phone. */
    async sealRotation(epk, gen, delta) {
        const key = await envelopeKey(this.key.privateKey, epk, "rotate", this.requestId);
        const nonce = rand(12);
        const ct = new Uint8Array(await subtle.encrypt(
            { name: "AES-GCM", iv: nonce, additionalData: aad("rotate", this.requestId, this.enrolmentId, gen, epk, this.pubRaw) },
            key, delta,
        ));
        return { v: 1, purpose: "rotate", rid: this.requestId, gen, epk: b64urlEncode(epk), n: b64urlEncode(nonce), ct: b64urlEncode(ct), spk: this.serverPub };
    }

    /** device.verify (without the clock check). */
    async verifySignature(devicePublicKey, { signature, timestampMs }, purpose) {
        const key = await subtle.importKey("raw", b64urlDecode(devicePublicKey, { length: 65 }), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
        const message = deviceSignedMessage({ purpose, requestId: this.requestId, enrolmentId: this.enrolmentId, challenge: this.challenge, origin: ORIGIN, timestampMs });
        return subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64urlDecode(signature, { length: 64 }), message);
    }
}

/** Enrols a fresh id; returns what the server keeps. */
async function enrolled(vault, label = "Phone") {
    const enrolmentId = newId("enr");
    const req = await ServerRequest.create(enrolmentId);
    const out = await vault.enrol(req.params({ label }));
    const { plaintext: share } = await req.open(out.envelope, "enrol");
    return { enrolmentId, share, gen: 0, devicePublicKey: out.devicePublicKey };
}

/** A login as the server sees it: returns the share and gen presented. */
async function login(vault, enrolmentId, extra = {}) {
    const req = await ServerRequest.create(enrolmentId);
    const out = await vault.startLogin(req.params(extra));
    const opened = await req.open(out.envelope, "login");
    return { req, out, ...opened };
}

// ---- tests ------------------------------------------------------------------------------

describe("enrol", () => {
    test("seals a 32-byte share at gen 0 and signs the challenge", async () => {
        const vault = new PhoneVault(memoryStore());
        const eid = newId("enr");
        const req = await ServerRequest.create(eid);
        const before = Date.now();
        const out = await vault.enrol(req.params({ label: "My phone" }));
        assert.deepEqual(Object.keys(out).sort(), ["devicePublicKey", "envelope", "signature", "timestampMs"]);
        const { plaintext, gen, epk } = await req.open(out.envelope, "enrol");
        assert.equal(plaintext.length, 32);
        assert.equal(gen, 0);
        assert.equal(epk[0], 4);
        assert.equal(b64urlDecode(out.devicePublicKey).length, 65);
        assert.ok(out.timestampMs >= before && out.timestampMs <= Date.now());
        assert.equal(await req.verifySignature(out.devicePublicKey, out, "enrol"), true);
        assert.equal(await req.verifySignature(out.devicePublicKey, out, "login"), false);
        assert.deepEqual(await vault.list(), [{ enrolmentId: eid, origin: ORIGIN, label: "My phone", gen: 0 }]);
        assert.equal(await vault.has(eid), true);
    });

    test("the envelope is bound to its enrolment id (AAD)", async () => {
        const vault = new PhoneVault(memoryStore());
        const eid = newId("enr");
        const req = await ServerRequest.create(eid);
        const out = await vault.enrol(req.params());
        await assert.rejects(req.open(out.envelope, "enrol", "other-enrolment"));
        await assert.rejects(req.open({ ...out.envelope, gen: 1 }, "enrol"));
        await assert.rejects(req.open({ ...out.envelope, ct: flip(out.envelope.ct, 40) }, "enrol"));
    });

    test("each enrolment gets its own share and device key", async () => {
        const vault = new PhoneVault(memoryStore());
        const a = await enrolled(vault);
        const b = await enrolled(vault);
        assert.notDeepEqual(a.share, b.share);
        assert.notEqual(a.devicePublicKey, b.devicePublicKey);
        assert.equal((await vault.list()).length, 2);
    });

    test("refuses to overwrite an existing enrolment", async () => {
        const store = memoryStore();
        const vault = new PhoneVault(store);
        const { enrolmentId, share } = await enrolled(vault);
        const req = await ServerRequest.create(enrolmentId);
        await assert.rejects(vault.enrol(req.params()), assertCode("already_enrolled"));
        const { plaintext } = await login(vault, enrolmentId);
        assert.deepEqual(plaintext, share);
    });

    test("stores nothing when an input is invalid", async () => {
        const store = memoryStore();
        const vault = new PhoneVault(store);
        const req = await ServerRequest.create(newId("enr"));
        const badPoint = new Uint8Array(65);
        badPoint[0] = 4;
        badPoint[1] = 1;
        const cases = [
            { serverPub: b64urlEncode(badPoint) },
            { serverPub: b64urlEncode(req.pubRaw.slice(0, 33)) },
            { serverPub: req.serverPub + "=" },
            { serverPub: b64urlEncode(new Uint8Array([2, ...req.pubRaw.slice(1)])) },
            { challenge: "not base64!" },
            { challenge: "" },
            { origin: "ftp://odoo.example.com" },
            { origin: "https://odoo.example.com\n" },
            { requestId: "bad id" },
            { enrolmentId: "bad/id" },
            { label: 42 },
        ];
        for (const patch of cases) {
            await assert.rejects(vault.enrol(req.params(patch)), assertCode("malformed_input"), JSON.stringify(patch));
        }
        assert.deepEqual(await store.keys(), []);
    });

    test("stores nothing when the store write fails", async () => {
        const inner = memoryStore();
        const store = { ...inner, put: async () => { throw new Error("QuotaExceededError"); } };
        const vault = new PhoneVault(store);
        const req = await ServerRequest.create(newId("enr"));
        await assert.rejects(vault.enrol(req.params()), assertCode("storage_failed"));
        assert.deepEqual(await inner.keys(), []);
    });

    test("the constructor checks the store", () => {
        assert.throws(() => new PhoneVault({ get() {}, put() {}, delete() {} }), TypeError);
    });
});

describe("non-extractability", () => {
    let calls;
    let original;
    beforeEach(() => {
        calls = [];
        original = subtle.generateKey;
        subtle.generateKey = function (algorithm, extractable, usages) {
            calls.push({ name: algorithm.name, extractable });
            return original.call(this, algorithm, extractable, usages);
        };
    });
    afterEach(() => {
        subtle.generateKey = original;
    });

    test("every key the vault generates is non-extractable", async () => {
        const vault = new PhoneVault(memoryStore());
        const { enrolmentId } = await enrolled(vault);
        const { req, out, epk } = await login(vault, enrolmentId);
        await out.finish(await req.sealRotation(epk, 1, rand(32)));
        const mine = calls.filter((c) => c.extractable === false).map((c) => c.name).sort();
        assert.deepEqual(mine, ["AES-GCM", "ECDH", "ECDH", "ECDSA"]); // wrap, 2 ephemerals, device
        // The only extractable keys are the test server's own.
        assert.ok(calls.filter((c) => c.extractable).every((c) => c.name === "ECDH"));
    });

    test("stored private and wrapping keys cannot be exported", async () => {
        const store = memoryStore();
        const vault = new PhoneVault(store);
        const { enrolmentId } = await enrolled(vault);
        const record = await store.get(enrolmentId);
        assert.deepEqual(Object.keys(record).sort(), ["deviceKey", "enrolmentId", "gen", "label", "origin", "wrapKey", "wrappedShare"]);
        assert.equal(record.wrapKey.extractable, false);
        assert.equal(record.deviceKey.privateKey.extractable, false);
        for (const format of ["raw", "jwk"]) {
            await assert.rejects(subtle.exportKey(format, record.wrapKey));
        }
        for (const format of ["pkcs8", "jwk"]) {
            await assert.rejects(subtle.exportKey(format, record.deviceKey.privateKey));
        }
        // The share is only stored encrypted.
        assert.equal(b64urlDecode(record.wrappedShare.ct).length, 48);
        assert.equal(b64urlDecode(record.wrappedShare.n).length, 12);
    });
});

describe("login and rotation", () => {
    test("presents the share, then applies share XOR delta at the new gen", async () => {
        const vault = new PhoneVault(memoryStore());
        const { enrolmentId, share, devicePublicKey } = await enrolled(vault);

        const first = await login(vault, enrolmentId);
        assert.deepEqual(first.plaintext, share);
        assert.equal(first.gen, 0);
        assert.equal(first.out.gen, 0);
        assert.equal(await first.req.verifySignature(devicePublicKey, first.out, "login"), true);
        const delta = rand(32);
        assert.deepEqual(await first.out.finish(await first.req.sealRotation(first.epk, 1, delta)), { gen: 1 });
        assert.equal((await vault.list())[0].gen, 1);

        const second = await login(vault, enrolmentId);
        assert.equal(second.gen, 1);
        assert.deepEqual(second.plaintext, xor(share, delta));
        assert.notDeepEqual(second.epk, first.epk); // fresh ephemeral key per request

        const delta2 = rand(32);
        await second.out.finish(await second.req.sealRotation(second.epk, 5, delta2));
        const third = await login(vault, enrolmentId);
        assert.equal(third.gen, 5);
        assert.deepEqual(third.plaintext, xor(xor(share, delta), delta2));
    });

    test("purpose approve is signed as approve", async () => {
        const vault = new PhoneVault(memoryStore());
        const { enrolmentId, devicePublicKey } = await enrolled(vault);
        const { req, out } = await login(vault, enrolmentId, { purpose: "approve" });
        assert.equal(out.envelope.purpose, "login");
        assert.equal(await req.verifySignature(devicePublicKey, out, "approve"), true);
        assert.equal(await req.verifySignature(devicePublicKey, out, "login"), false);
        await assert.rejects(vault.startLogin(req.params({ purpose: "deny" })), assertCode("malformed_input"));
        await assert.rejects(vault.startLogin(req.params({ purpose: "enrol" })), assertCode("malformed_input"));
    });

    test("origin defaults to the enrolment's and must match it", async () => {
        const vault = new PhoneVault(memoryStore());
        const { enrolmentId, devicePublicKey } = await enrolled(vault);
        const req = await ServerRequest.create(enrolmentId);
        const out = await vault.startLogin(req.params({ origin: undefined }));
        assert.equal(await req.verifySignature(devicePublicKey, out, "login"), true);
        await assert.rejects(vault.startLogin(req.params({ origin: "https://evil.example.com" })), assertCode("origin_mismatch"));
    });

    test("unknown enrolment", async () => {
        const vault = new PhoneVault(memoryStore());
        const req = await ServerRequest.create("nobody");
        await assert.rejects(vault.startLogin(req.params()), assertCode("not_enrolled"));
        await assert.rejects(vault.sign({ ...req.params(), purpose: "deny" }), assertCode("not_enrolled"));
    });

    test("a tampered rotation envelope leaves the stored share unchanged", async () => {
        const store = memoryStore();
        const vault = new PhoneVault(store);
        const { enrolmentId, share } = await enrolled(vault);
        const { req, out, epk } = await login(vault, enrolmentId);
        const before = await store.get(enrolmentId);
        const delta = rand(32);
        const good = await req.sealRotation(epk, 1, delta);
        const otherKey = (await ServerRequest.create(enrolmentId)).pubRaw;
        const tampered = [
            ["verification_failed", { ...good, ct: flip(good.ct, 0) }],
            ["verification_failed", { ...good, ct: flip(good.ct, 47) }], // tag
            ["verification_failed", { ...good, n: flip(good.n, 5) }],
            ["verification_failed", { ...good, gen: 2 }],
            ["malformed_input", { ...good, rid: "other-request" }],
            ["malformed_input", { ...good, purpose: "login" }],
            ["malformed_input", { ...good, v: 2 }],
            ["malformed_input", { ...good, epk: b64urlEncode(otherKey) }],
            ["malformed_input", { ...good, spk: b64urlEncode(otherKey) }],
            ["malformed_input", { ...good, ct: good.ct.slice(0, -2) }],
            ["malformed_input", { ...good, gen: 0 }], // does not move forward
            ["malformed_input", { ...good, gen: -1 }],
            ["malformed_input", { ...good, gen: "1" }],
            ["malformed_input", { ...good, n: good.n + "=" }],
            ["malformed_input", null],
            ["malformed_input", [good]],
        ];
        for (const [code, env] of tampered) {
            await assert.rejects(out.finish(env), assertCode(code), JSON.stringify(env));
            assert.deepEqual(await store.get(enrolmentId), before);
        }
        // A reply sealed for another enrolment id does not open either.
        const foreign = await Object.assign(Object.create(ServerRequest.prototype), req, { enrolmentId: "other" }).sealRotation(epk, 1, delta);
        await assert.rejects(out.finish(foreign), assertCode("verification_failed"));

        // The old share still logs in at the old generation...
        const again = await login(vault, enrolmentId);
        assert.equal(again.gen, 0);
        assert.deepEqual(again.plaintext, share);
        // ...and the first login's finish can still be completed with the genuine reply.
        assert.deepEqual(await out.finish(good), { gen: 1 });
        await assert.rejects(out.finish(good), assertCode("already_finished"));
        const after = await login(vault, enrolmentId);
        assert.equal(after.gen, 1);
        assert.deepEqual(after.plaintext, xor(share, delta));
    });

    test("a rotation for a share that changed meanwhile is refused", async () => {
        const store = memoryStore();
        const vault = new PhoneVault(store);
        const { enrolmentId, share } = await enrolled(vault);
        const a = await login(vault, enrolmentId);
        const b = await login(vault, enrolmentId);
        const da = rand(32);
        await a.out.finish(await a.req.sealRotation(a.epk, 1, da));
        await assert.rejects(b.out.finish(await b.req.sealRotation(b.epk, 2, rand(32))), assertCode("stale_state"));
        const c = await login(vault, enrolmentId);
        assert.equal(c.gen, 1);
        assert.deepEqual(c.plaintext, xor(share, da));
    });

    test("a failed store write during rotation keeps the old share", async () => {
        const inner = memoryStore();
        let failPuts = false;
        const store = { ...inner, put: async (k, v) => { if (failPuts) throw new Error("disk full"); return inner.put(k, v); } };
        const vault = new PhoneVault(store);
        const { enrolmentId, share } = await enrolled(vault);
        const { req, out, epk } = await login(vault, enrolmentId);
        failPuts = true;
        await assert.rejects(out.finish(await req.sealRotation(epk, 1, rand(32))), assertCode("storage_failed"));
        failPuts = false;
        const again = await login(vault, enrolmentId);
        assert.equal(again.gen, 0);
        assert.deepEqual(again.plaintext, share);
    });

    test("a corrupted stored share is detected", async () => {
        const store = memoryStore();
        const vault = new PhoneVault(store);
        const { enrolmentId } = await enrolled(vault);
        const record = await store.get(enrolmentId);
        await store.put(enrolmentId, { ...record, wrappedShare: { ...record.wrappedShare, ct: flip(record.wrappedShare.ct, 3) } });
        const req = await ServerRequest.create(enrolmentId);
        await assert.rejects(vault.startLogin(req.params()), assertCode("verification_failed"));
        // Moving a record's generation without re-encryption is detected too (gen is AAD).
        await store.put(enrolmentId, { ...record, gen: 7 });
        await assert.rejects(vault.startLogin(req.params()), assertCode("verification_failed"));
        await store.put(enrolmentId, record);
        await vault.startLogin(req.params());
    });
});

describe("sign, list, remove", () => {
    test("sign deny: a device signature without the share", async () => {
        const vault = new PhoneVault(memoryStore());
        const { enrolmentId, devicePublicKey } = await enrolled(vault);
        const req = await ServerRequest.create(enrolmentId);
        const { challenge, requestId } = req;
        const out = await vault.sign({ enrolmentId, purpose: "deny", requestId, challenge, origin: ORIGIN });
        assert.deepEqual(Object.keys(out).sort(), ["signature", "timestampMs"]);
        assert.equal(await req.verifySignature(devicePublicKey, out, "deny"), true);
        assert.equal(await req.verifySignature(devicePublicKey, out, "approve"), false);
        const tampered = { ...out, signature: flip(out.signature, 10) };
        assert.equal(await req.verifySignature(devicePublicKey, tampered, "deny"), false);
        await assert.rejects(vault.sign({ enrolmentId, purpose: "enrol", requestId, challenge }), assertCode("malformed_input"));
        await assert.rejects(vault.sign({ enrolmentId, purpose: "deny", requestId, challenge: "a\nb" }), assertCode("malformed_input"));
    });

    test("list, has and remove", async () => {
        const vault = new PhoneVault(memoryStore());
        assert.deepEqual(await vault.list(), []);
        const a = await enrolled(vault, "A");
        const b = await enrolled(vault, "B");
        const labels = (await vault.list()).map((r) => r.label).sort();
        assert.deepEqual(labels, ["A", "B"]);
        for (const info of await vault.list()) {
            assert.deepEqual(Object.keys(info).sort(), ["enrolmentId", "gen", "label", "origin"]);
        }
        await vault.remove(a.enrolmentId);
        await vault.remove(a.enrolmentId); // idempotent
        assert.equal(await vault.has(a.enrolmentId), false);
        assert.equal(await vault.has(b.enrolmentId), true);
        assert.deepEqual((await vault.list()).map((r) => r.enrolmentId), [b.enrolmentId]);
        await assert.rejects(vault.has("bad id"), assertCode("malformed_input"));
    });
});
