/**
 * Shared code of the MasterKey pages: JSON calls, WebAuthn encoding, and the phone's answer
 * to a login request. Plain ES module; the cryptography is in ../core/masterkey_phone.js.
 */
import { b64urlDecode, b64urlEncode, PhoneVault, requestPersistence } from "../core/masterkey_phone.js";

export const vault = new PhoneVault();
export { requestPersistence };

export class ServerError extends Error {
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}

/** POST JSON, answer JSON; a 4xx/5xx becomes a ServerError with the server's message. */
export async function postJson(url, body) {
    const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
    });
    let data = null;
    try {
        data = await response.json();
    } catch {
        data = null;
    }
    if (!response.ok) {
        throw new ServerError(response.status, data?.error || "http_error",
            data?.message || `The server answered ${response.status}.`);
    }
    return data;
}

export function showError(element, error) {
    element.textContent = error?.message || String(error);
    element.hidden = false;
    element.classList.remove("d-none");
}

export function secureContextProblem() {
    if (!window.isSecureContext || !globalThis.crypto?.subtle) {
        return "This page is not in a secure context (https), so the phone's keys cannot be used here.";
    }
    return null;
}

const buf = (value) => b64urlDecode(value).buffer;

/** Server options (base64url fields) -> navigator.credentials.create() input. */
export async function createCredential(options) {
    const publicKey = {
        ...options,
        challenge: buf(options.challenge),
        user: { ...options.user, id: buf(options.user.id) },
        excludeCredentials: options.excludeCredentials.map((c) => ({ ...c, id: buf(c.id) })),
    };
    const credential = await navigator.credentials.create({ publicKey });
    return {
        id: credential.id,
        rawId: b64urlEncode(new Uint8Array(credential.rawId)),
        type: credential.type,
        response: {
            clientDataJSON: b64urlEncode(new Uint8Array(credential.response.clientDataJSON)),
            attestationObject: b64urlEncode(new Uint8Array(credential.response.attestationObject)),
        },
    };
}

/** Server options -> navigator.credentials.get() -> JSON the server verifies. */
export async function getAssertion(options) {
    const publicKey = {
        ...options,
        challenge: buf(options.challenge),
        allowCredentials: options.allowCredentials.map((c) => ({ ...c, id: buf(c.id) })),
    };
    const credential = await navigator.credentials.get({ publicKey });
    const r = credential.response;
    return {
        id: credential.id,
        rawId: b64urlEncode(new Uint8Array(credential.rawId)),
        type: credential.type,
        response: {
            clientDataJSON: b64urlEncode(new Uint8Array(r.clientDataJSON)),
            authenticatorData: b64urlEncode(new Uint8Array(r.authenticatorData)),
            signature: b64urlEncode(new Uint8Array(r.signature)),
            userHandle: r.userHandle ? b64urlEncode(new Uint8Array(r.userHandle)) : null,
        },
    };
}

/** The enrolments this phone holds for this Odoo (same origin). */
export async function localEnrolments() {
    try {
        return (await vault.list()).filter((e) => e.origin === window.location.origin);
    } catch {
        return [];
    }
}

/** Step 1 of answering: bind the request to this phone, get the challenge and who asks. */
export function fetchOptions(rid, enrolment) {
    return postJson("/auth_masterkey/phone/login/options", { rid, enrolment: enrolment.enrolmentId });
}

/** Step 2: approve (all factors the policy asks) or deny (device signature only). */
export async function answer(enrolment, options, { approve, matchCode }) {
    const common = { enrolmentId: enrolment.enrolmentId, requestId: options.rid, challenge: options.challenge };
    if (!approve) {
        const signed = await vault.sign({ ...common, purpose: "deny" });
        return postJson("/auth_masterkey/phone/login/answer", {
            rid: options.rid, approve: false, signature: signed.signature, timestamp: signed.timestampMs,
        });
    }
    const login = await vault.startLogin({ ...common, serverPub: options.server_key, purpose: "approve" });
    const webauthn = options.webauthn ? await getAssertion(options.webauthn) : null;
    const result = await postJson("/auth_masterkey/phone/login/answer", {
        rid: options.rid, approve: true, signature: login.signature, timestamp: login.timestampMs,
        envelope: login.envelope, webauthn, match_code: matchCode || null,
    });
    await login.finish(result.rotation);
    return result;
}
