"""Typed errors of the core.

Each error has a stable ``code`` (for logs, the audit trail and JSON answers) and a message
that is safe to show: it never contains a share, a key, a secret or a challenge.
"""


class MasterKeyError(Exception):
    code = "masterkey_error"
    default_message = "The request could not be verified."

    def __init__(self, message=None):
        super().__init__(message or self.default_message)

    @property
    def message(self):
        return self.args[0]


class MalformedInput(MasterKeyError):
    code = "malformed_input"
    default_message = "The request is malformed."


class Expired(MasterKeyError):
    code = "expired"
    default_message = "The request has expired; start again."


class Replayed(MasterKeyError):
    code = "replayed"
    default_message = "This request was already used."


class VerificationFailed(MasterKeyError):
    code = "verification_failed"
    default_message = "Verification failed."


class WrongShare(VerificationFailed):
    code = "wrong_share"
    default_message = "The phone's credential does not match this enrolment."


class StaleShare(VerificationFailed):
    code = "stale_share"
    default_message = "The phone presented a credential generation that is not current."


class ClonedShareSuspected(VerificationFailed):
    code = "cloned_share"
    default_message = "A superseded credential was presented: this phone may have been cloned."


class InvalidDeviceKey(MalformedInput):
    code = "invalid_device_key"
    default_message = "The device key is not a valid P-256 public key."


class InvalidSignature(VerificationFailed):
    code = "invalid_signature"
    default_message = "The device signature is not valid."


class OriginMismatch(VerificationFailed):
    code = "origin_mismatch"
    default_message = "The request came from an origin that is not allowed."


class RpIdMismatch(VerificationFailed):
    code = "rp_id_mismatch"
    default_message = "The authenticator answered for another site (RP ID mismatch)."


class UserNotPresent(VerificationFailed):
    code = "user_not_present"
    default_message = "The authenticator did not confirm user presence."


class UserNotVerified(VerificationFailed):
    code = "user_not_verified"
    default_message = "The biometric or PIN was not verified on the authenticator."


class SignCountClone(VerificationFailed):
    code = "sign_count_clone"
    default_message = "The authenticator's signature counter did not increase: possible cloned authenticator."


class AttestationRejected(VerificationFailed):
    code = "attestation_rejected"
    default_message = "The authenticator's attestation is not accepted."


class KeyUnavailable(MasterKeyError):
    code = "key_unavailable"
    default_message = "The key needed to decrypt stored credentials is not configured."


class PolicyError(MalformedInput):
    code = "policy_error"
    default_message = "Invalid MasterKey policy setting."


class RateLimited(MasterKeyError):
    code = "rate_limited"
    default_message = "Too many failed attempts. Wait a few minutes and try again."


class WrongMatchCode(VerificationFailed):
    code = "wrong_match_code"
    default_message = "The number you picked is not the one on the computer's screen; the login was refused."


# Errors that prove the enrolment's secrets were copied: it is revoked on sight. A StaleShare
# is not proof (the sender chooses the generation number), so it is refused and logged only.
ENROLMENT_COMPROMISED = (ClonedShareSuspected, SignCountClone)
