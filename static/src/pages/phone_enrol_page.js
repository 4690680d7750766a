/** The phone's enrolment page: creates the share, the device key and (optionally) a passkey. */
import { createCredential, postJson, requestPersistence, secureContextProblem, showError, vault } from "./common.js";

const $ = (id) => document.getElementById(id);
const errorBox = $("mk_error");
const params = new URLSearchParams(window.location.hash.slice(1));
const rid = params.get("rid");
const token = params.get("t");
let options = null;

async function enrol() {
    $("mk_enrol_button").disabled = true;
    let enrolled = false;
    try {
        const label = $("mk_label").value.trim() || "Phone";
        const made = await vault.enrol({
            enrolmentId: options.enrolment, requestId: options.rid, serverPub: options.server_key,
            challenge: options.challenge, origin: window.location.origin, label,
        });
        enrolled = true;
        const webauthn = options.biometric_required || $("mk_biometric").checked
            ? await createCredential(options.webauthn) : null;
        const result = await postJson("/auth_masterkey/phone/enrol/finish", {
            rid, token, label, envelope: made.envelope, device_key: made.devicePublicKey,
            signature: made.signature, timestamp: made.timestampMs, webauthn,
        });
        await requestPersistence();
        $("mk_status").textContent = `Almost done: on your computer, check that it shows ${result.confirm_code} ` +
            `and "${result.label}", then confirm. This phone will then log ${result.user} in` +
            (result.biometric ? " with biometrics." : ".");
    } catch (error) {
        if (enrolled) {
            await vault.remove(options.enrolment); // the server did not keep it: nothing to hold on to
        }
        showError(errorBox, error);
    }
}

async function init() {
    const problem = secureContextProblem();
    if (problem) {
        return showError(errorBox, new Error(problem));
    }
    if (!rid || !token) {
        return showError(errorBox, new Error("This link is incomplete: scan the code again."));
    }
    try {
        options = await postJson("/auth_masterkey/phone/enrol/options", { rid, token });
    } catch (error) {
        return showError(errorBox, error);
    }
    $("mk_who").textContent = `Enrol this phone for ${options.user} (${options.login}).`;
    if (options.biometric_required) {
        $("mk_biometric").checked = true;
        $("mk_biometric").disabled = true;
    }
    $("mk_enrol_button").disabled = false;
    $("mk_enrol_button").addEventListener("click", enrol);
}

init();
