"""The server's side of a factor-1 login, as the addon's model runs it, without Odoo."""

from masterkey_core import envelope, p256, shares


def enrol(phone, request_id="rid-enrol"):
    server_key = p256.new_private_key()
    env = phone.envelope(p256.public_bytes(server_key.public_key()), "enrol", request_id)
    share, gen, _ = envelope.open_from_phone(env, server_private_key=server_key, purpose="enrol",
                                             request_id=request_id, enrolment_id=phone.enrolment_id)
    assert gen == 0
    return shares.enrol(phone.enrolment_id, share)


def login(state, phone, request_id, *, deliver_reply=True, **envelope_kwargs):
    """One login; returns the new state. ``deliver_reply=False`` drops the rotation reply."""
    server_key = p256.new_private_key()
    server_pub = p256.public_bytes(server_key.public_key())
    env = phone.envelope(server_pub, "login", request_id, **envelope_kwargs)
    share, gen, epk = envelope.open_from_phone(env, server_private_key=server_key, purpose="login",
                                               request_id=request_id, enrolment_id=phone.enrolment_id)
    result = shares.login(state, share, gen)
    reply = envelope.seal_for_phone(server_private_key=server_key, phone_pub=epk, request_id=request_id,
                                    enrolment_id=phone.enrolment_id, gen=result.rotation_gen,
                                    plaintext=result.rotation_delta)
    if deliver_reply:
        phone.apply_rotation(reply, server_pub, request_id)
    return result
