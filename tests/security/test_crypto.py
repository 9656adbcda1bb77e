"""Field encryption and blind index (security.md, "Data").

AEAD with associated data bound to table, row, field and key version, so that a value swapped
to another place fails to decrypt; exact search through a keyed index under a separate key;
rotatable, versioned keys; no identity number in clear in a token.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import random

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import example, given
from hypothesis import strategies as st

import jifen.crypto as crypto
from jifen.crypto import (
    Algorithm,
    DecryptionError,
    EncryptionKey,
    FieldCipher,
    KeyConfigError,
    Keyring,
    SoftwareFieldCipher,
    UnsupportedAlgorithm,
    associated_data,
    generate_key,
    sm4_gcm_available,
    token_version,
)
from jifen.identity import normalise_identity_number
from jifen.synthetic.identity import generate_identity_number, generate_phone


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Fixed, distinct test keys (never used anywhere else).
K1 = b64(bytes(range(32)))
K2 = b64(bytes(range(100, 132)))
K3 = b64(bytes(range(200, 232)))
INDEX = b64(bytes(range(50, 82)))
INDEX_2 = b64(bytes(range(150, 182)))
SM4_KEY = b64(bytes(range(16)))

PLACE = {
    "table": "residents_resident",
    "row": "0b0e6d9c-0000-4000-8000-000000000001",
    "field": "identity_number",
}
TEXTBOOK = "11010519491231002X"

needs_sm4 = pytest.mark.skipif(not sm4_gcm_available(), reason="OpenSSL without SM4-GCM")


def cipher(keys: str = f"1:{K1}", current: int = 1, index: str = INDEX) -> SoftwareFieldCipher:
    return SoftwareFieldCipher(Keyring.from_config(keys, current, index))


V1 = cipher()
V1_V2 = cipher(f"1:{K1},2:{K2}", current=2)


# --- round trip ----------------------------------------------------------------------------


@given(plaintext=st.text(max_size=300))
@example(plaintext="")
@example(plaintext="张三丰")
@example(plaintext="浙江省桐乡市梧桐街道庆丰南路 1 号 🏠")
@example(plaintext=TEXTBOOK)
def test_round_trip(plaintext: str) -> None:
    token = V1.encrypt(plaintext, **PLACE)
    assert V1.decrypt(token, **PLACE) == plaintext


def test_token_format() -> None:
    token = V1.encrypt(TEXTBOOK, **PLACE)
    label, payload = token.split(":")
    assert label == "v1"
    assert "=" not in payload
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    # nonce (12) + ciphertext (as long as the plaintext) + tag (16)
    assert len(raw) == 12 + len(TEXTBOOK) + 16
    assert token_version(token) == 1


def test_token_is_standard_aes_gcm_with_documented_associated_data() -> None:
    # Pins the format: another implementation can decrypt with the documented recipe.
    token = V1.encrypt(TEXTBOOK, **PLACE)
    payload = token.split(":")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    aad = f"{PLACE['table']}|{PLACE['row']}|{PLACE['field']}|v1|AES-256-GCM".encode()
    assert associated_data(**PLACE, version=1, algorithm=Algorithm.AES_256_GCM) == aad
    plain = AESGCM(base64.b64decode(K1)).decrypt(raw[:12], raw[12:], aad)
    assert plain.decode() == TEXTBOOK


def test_cipher_implements_the_protocol() -> None:
    assert isinstance(V1, FieldCipher)


def test_two_encryptions_of_the_same_value_differ() -> None:
    tokens = {V1.encrypt(TEXTBOOK, **PLACE) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {t.split(":")[1][:16] for t in tokens}
    assert len(nonces) == 50


# --- associated data binds the token to its place ------------------------------------------


@pytest.mark.parametrize(
    "elsewhere",
    [
        {**PLACE, "row": "0b0e6d9c-0000-4000-8000-000000000002"},
        {**PLACE, "field": "phone"},
        {**PLACE, "table": "residents_archive"},
        {"table": PLACE["row"], "row": PLACE["table"], "field": PLACE["field"]},
    ],
)
def test_token_copied_elsewhere_does_not_decrypt(elsewhere: dict[str, str]) -> None:
    token = V1.encrypt(TEXTBOOK, **PLACE)
    with pytest.raises(DecryptionError):
        V1.decrypt(token, **elsewhere)


@pytest.mark.parametrize("part", ["table", "row", "field"])
@pytest.mark.parametrize("bad", ["", "a|b"])
def test_place_components_must_be_unambiguous(part: str, bad: str) -> None:
    with pytest.raises(ValueError, match=part):
        V1.encrypt(TEXTBOOK, **{**PLACE, part: bad})


def test_pipe_cannot_shift_components() -> None:
    # Without the '|' ban, table "a|b" + row "c" and table "a" + row "b|c" would share AAD.
    with pytest.raises(ValueError):
        V1.encrypt("x", table="a", row="b|c", field="f")


# --- tampering -----------------------------------------------------------------------------


def _raw(token: str) -> tuple[str, bytearray]:
    label, payload = token.split(":")
    return label, bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _token(label: str, raw: bytes) -> str:
    return f"{label}:{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


@given(data=st.data(), plaintext=st.sampled_from(["", "1", TEXTBOOK, "张三丰"]))
def test_any_flipped_bit_is_detected(data: st.DataObject, plaintext: str) -> None:
    label, raw = _raw(V1.encrypt(plaintext, **PLACE))
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    with pytest.raises(DecryptionError):
        V1.decrypt(_token(label, raw), **PLACE)


def test_every_flipped_byte_is_detected() -> None:
    label, raw = _raw(V1.encrypt(TEXTBOOK, **PLACE))
    for position in range(len(raw)):
        tampered = bytearray(raw)
        tampered[position] ^= 0xFF
        with pytest.raises(DecryptionError):
            V1.decrypt(_token(label, tampered), **PLACE)


def test_truncated_and_extended_tokens_are_refused() -> None:
    label, raw = _raw(V1.encrypt(TEXTBOOK, **PLACE))
    for tampered in (raw[:-1], raw[1:], raw + b"\x00", raw[:28]):
        with pytest.raises(DecryptionError):
            V1.decrypt(_token(label, tampered), **PLACE)


def test_non_canonical_base64_is_refused() -> None:
    # 1-byte plaintext: 29 bytes, so the last base64 character carries 2 spare bits.
    token = V1.encrypt("a", **PLACE)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(token[-1]) ^ 1]
    with pytest.raises(DecryptionError, match="malformed"):
        V1.decrypt(token[:-1] + sibling, **PLACE)


@pytest.mark.parametrize(
    "token",
    ["", "v1", "v1:", "v0:AAAA", "v01:AAAA", "1:AAAA", "V1:AAAA", "v1:AA==", "v1:A+/A", "v1:AAAA"],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(DecryptionError):
        V1.decrypt(token, **PLACE)
    if token.startswith("v") and ":" in token:
        with pytest.raises(DecryptionError):
            token_version(token + "!")


def test_non_str_token_is_refused() -> None:
    with pytest.raises(DecryptionError):
        V1.decrypt(b"v1:AAAA", **PLACE)  # type: ignore[arg-type]


def test_swapped_version_label_is_refused() -> None:
    token = V1_V2.encrypt(TEXTBOOK, **PLACE)
    assert token.startswith("v2:")
    with pytest.raises(DecryptionError):
        V1_V2.decrypt("v1:" + token[3:], **PLACE)
    old = V1.encrypt(TEXTBOOK, **PLACE)
    with pytest.raises(DecryptionError):
        V1_V2.decrypt("v2:" + old[3:], **PLACE)


def test_unknown_version_is_refused() -> None:
    token = V1_V2.encrypt(TEXTBOOK, **PLACE)
    with pytest.raises(DecryptionError, match="unknown key version v2"):
        V1.decrypt(token, **PLACE)


def test_other_keyring_cannot_decrypt() -> None:
    token = V1.encrypt(TEXTBOOK, **PLACE)
    with pytest.raises(DecryptionError):
        cipher(f"1:{K3}").decrypt(token, **PLACE)


# --- rotation ------------------------------------------------------------------------------


def test_key_rotation() -> None:
    old = V1.encrypt(TEXTBOOK, **PLACE)
    assert V1_V2.needs_rotation(old)
    assert not V1.needs_rotation(old)
    # The new keyring still decrypts v1 tokens ...
    assert V1_V2.decrypt(old, **PLACE) == TEXTBOOK
    # ... encrypts new values with v2 ...
    assert token_version(V1_V2.encrypt(TEXTBOOK, **PLACE)) == 2
    # ... and rotate() re-encrypts under v2.
    new = V1_V2.rotate(old, **PLACE)
    assert new.startswith("v2:")
    assert not V1_V2.needs_rotation(new)
    assert V1_V2.decrypt(new, **PLACE) == TEXTBOOK
    # Once v1 is retired, only rotated tokens still decrypt.
    only_v2 = cipher(f"2:{K2}", current=2)
    assert only_v2.decrypt(new, **PLACE) == TEXTBOOK
    with pytest.raises(DecryptionError):
        only_v2.decrypt(old, **PLACE)


def test_rotate_checks_the_place() -> None:
    old = V1.encrypt(TEXTBOOK, **PLACE)
    with pytest.raises(DecryptionError):
        V1_V2.rotate(old, **{**PLACE, "row": "other"})


def test_rotating_a_current_token_gives_a_fresh_token() -> None:
    token = V1.encrypt(TEXTBOOK, **PLACE)
    again = V1.rotate(token, **PLACE)
    assert again != token
    assert V1.decrypt(again, **PLACE) == TEXTBOOK


# --- no plaintext in the token -------------------------------------------------------------


def _runs(text: str, size: int = 6) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_token_contains_no_run_of_the_plaintext_digits(seed: int) -> None:
    rng = random.Random(seed)
    number = generate_identity_number(rng, dt.date(1970, 1, 1) + dt.timedelta(rng.randrange(15000)))
    phone = generate_phone(rng)
    for value, field in ((number, "identity_number"), (phone, "phone")):
        token = V1.encrypt(value, **{**PLACE, "field": field})
        assert not any(run in token for run in _runs(value)), (token, value)
        assert not any(run in token.upper() for run in _runs(value))


# --- blind index ---------------------------------------------------------------------------


def test_blind_index_is_deterministic_and_separated() -> None:
    first = V1.blind_index(TEXTBOOK, purpose="identity_number")
    assert first == V1.blind_index(TEXTBOOK, purpose="identity_number")
    assert first == V1_V2.blind_index(TEXTBOOK, purpose="identity_number")  # same index key
    assert len(first) == 64 and int(first, 16) >= 0
    # by purpose
    assert first != V1.blind_index(TEXTBOOK, purpose="phone")
    # by key
    assert first != cipher(index=INDEX_2).blind_index(TEXTBOOK, purpose="identity_number")
    # by value
    assert first != V1.blind_index(TEXTBOOK[:17] + "0", purpose="identity_number")


def test_blind_index_is_keyed_never_a_plain_hash() -> None:
    index = V1.blind_index(TEXTBOOK, purpose="identity_number")
    for algorithm in ("sha256", "sha3_256", "blake2s"):
        assert index != hashlib.new(algorithm, TEXTBOOK.encode()).hexdigest()
    assert TEXTBOOK not in index


def test_blind_index_construction_is_pinned() -> None:
    # Stored indexes depend on this exact construction; changing it breaks every lookup.
    purpose_key = hmac.new(
        base64.b64decode(INDEX), b"jifen.blind_index|identity_number", hashlib.sha256
    ).digest()
    expected = hmac.new(purpose_key, TEXTBOOK.encode(), hashlib.sha256).hexdigest()
    assert V1.blind_index(TEXTBOOK, purpose="identity_number") == expected


def test_blind_index_after_normalisation_finds_every_spelling() -> None:
    spellings = [
        "11010519491231002x",
        " 11010519491231002X ",
        "１１０１０５１９４９１２３１００２ｘ",
    ]
    indexes = {
        V1.blind_index(normalise_identity_number(s), purpose="identity_number") for s in spellings
    }
    assert indexes == {V1.blind_index(TEXTBOOK, purpose="identity_number")}


@pytest.mark.parametrize("purpose", ["", "Phone", "id number", "1phone", "phone|x"])
def test_blind_index_refuses_bad_purpose(purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        V1.blind_index(TEXTBOOK, purpose=purpose)


def test_blind_index_refuses_empty_value() -> None:
    with pytest.raises(ValueError):
        V1.blind_index("", purpose="phone")


# --- key configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "current", "index", "error", "message"),
    [
        (
            f"1:{b64(bytes(16))}",
            1,
            INDEX,
            KeyConfigError,
            "v1: AES-256-GCM needs a 32-byte key, got 16",
        ),
        (f"1:{K1},2:{b64(bytes(31))}", 2, INDEX, KeyConfigError, "v2: AES-256-GCM needs a 32-byte"),
        (f"1:{K1[:-2]}", 1, INDEX, KeyConfigError, "v1: not valid base64"),
        (f"1:{K1}!", 1, INDEX, KeyConfigError, "v1: not valid base64"),
        ("1:", 1, INDEX, KeyConfigError, "v1: AES-256-GCM needs a 32-byte key, got 0"),
        (f"1:{K1}", 2, INDEX, KeyConfigError, "current key version 2 is not among"),
        (f"1:{K1},2:{K2}", 3, INDEX, KeyConfigError, "(have v1, v2)"),
        (f"1:{K1}", 1, K1, KeyConfigError, "index key: equal to encryption key v1"),
        (f"1:{K1},2:{K2}", 2, K1, KeyConfigError, "index key: equal to encryption key v1"),
        (f"1:{K1}", 1, b64(bytes(16)), KeyConfigError, "index key: needs at least 32 bytes"),
        (f"1:{K1}", 1, "not base64!", KeyConfigError, "index key: not valid base64"),
        (f"1:{K1},1:{K2}", 1, INDEX, KeyConfigError, "v1: version listed twice"),
        (f"1:{K1},2:{K1}", 2, INDEX, KeyConfigError, "v2: same key as v1"),
        (f"0:{K1}", 0, INDEX, KeyConfigError, "#1: version must be a positive integer"),
        (f"1:{K1},x:{K2}", 1, INDEX, KeyConfigError, "#2: version must be a positive integer"),
        (K1, 1, INDEX, KeyConfigError, "#1: expected 'version:base64'"),
        (f"1:a:b:{K1}", 1, INDEX, KeyConfigError, "#1: expected"),
        (f"1:{K1},,2:{K2}", 1, INDEX, KeyConfigError, "#2: expected"),
        ("", 1, INDEX, KeyConfigError, "at least one key"),
        (f"1:ChaCha20:{K1}", 1, INDEX, UnsupportedAlgorithm, "v1: unknown algorithm"),
        (f"1:{K1}", True, INDEX, KeyConfigError, "must be an integer"),
        (f"1:{K1}", "1", INDEX, KeyConfigError, "must be an integer"),
    ],
)
def test_malformed_key_config_is_refused(
    keys: str, current: int, index: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        Keyring.from_config(keys, current, index)
    assert message in str(info.value)
    # No key material in the message.
    for secret in (K1, K2, INDEX, K1[:-2]):
        assert secret[:8] not in str(info.value)


def test_config_tolerates_spaces_and_explicit_algorithm() -> None:
    ring = Keyring.from_config(f" 1:{K1} , 2:aes-256-gcm:{K2} ", 2, f" {INDEX}\n")
    assert sorted(ring.keys) == [1, 2]
    assert ring.current_key.algorithm is Algorithm.AES_256_GCM
    assert ring.current_key.secret == bytes(range(100, 132))


def test_keyring_is_read_only() -> None:
    ring = Keyring.from_config(f"1:{K1}", 1, INDEX)
    with pytest.raises(TypeError):
        ring.keys[2] = ring.keys[1]  # type: ignore[index]
    with pytest.raises(AttributeError):
        ring.current = 2  # type: ignore[misc]


def test_keys_never_appear_in_repr() -> None:
    ring = Keyring.from_config(f"1:{K1},2:{K2}", 2, INDEX)
    for text in (repr(ring), repr(ring.keys[1]), repr(SoftwareFieldCipher(ring))):
        for secret in (K1, K2, INDEX):
            assert secret not in text
            assert str(base64.b64decode(secret)) not in text
            assert base64.b64decode(secret).hex() not in text


def test_direct_construction_is_validated_too() -> None:
    key = EncryptionKey(1, Algorithm.AES_256_GCM, bytes(32))
    with pytest.raises(KeyConfigError, match="listed under another version"):
        Keyring(keys={2: key}, current=2, index_key=bytes(range(32)))
    with pytest.raises(KeyConfigError, match="version must be 1 or more"):
        EncryptionKey(0, Algorithm.AES_256_GCM, bytes(32))
    with pytest.raises(UnsupportedAlgorithm):
        EncryptionKey(1, "AES-128-CBC", bytes(32))  # type: ignore[arg-type]


def test_generate_key() -> None:
    keys = {generate_key() for _ in range(10)}
    assert len(keys) == 10
    assert all(len(base64.b64decode(k, validate=True)) == 32 for k in keys)
    assert len(base64.b64decode(generate_key(Algorithm.SM4_GCM))) == 16


def test_genkey_command_prints_a_working_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert crypto.main(["genkey"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line)
    assert set(lines) == {"JIFEN_FIELD_KEYS", "JIFEN_FIELD_KEY_CURRENT", "JIFEN_INDEX_KEY"}
    ring = Keyring.from_config(
        lines["JIFEN_FIELD_KEYS"], int(lines["JIFEN_FIELD_KEY_CURRENT"]), lines["JIFEN_INDEX_KEY"]
    )
    fresh = SoftwareFieldCipher(ring)
    assert fresh.decrypt(fresh.encrypt(TEXTBOOK, **PLACE), **PLACE) == TEXTBOOK


# --- SM4-GCM -------------------------------------------------------------------------------


def test_unavailable_sm4_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "sm4_gcm_available", lambda: False)
    with pytest.raises(UnsupportedAlgorithm, match="v2: SM4-GCM is not available"):
        Keyring.from_config(f"1:{K1},2:SM4-GCM:{SM4_KEY}", 2, INDEX)


@needs_sm4
def test_sm4_gcm_known_answer() -> None:
    # RFC 8998, appendix A.1 (SM4-GCM test vector).
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    tag = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")
    assert crypto._sm4_seal(key, nonce, aad, plaintext) == ciphertext + tag
    assert crypto._sm4_open(key, nonce, aad, ciphertext + tag) == plaintext


@needs_sm4
@given(plaintext=st.text(max_size=100))
@example(plaintext="张三丰")
def test_sm4_round_trip(plaintext: str) -> None:
    sm4 = cipher(f"1:SM4-GCM:{SM4_KEY}")
    token = sm4.encrypt(plaintext, **PLACE)
    assert sm4.decrypt(token, **PLACE) == plaintext


@needs_sm4
def test_sm4_key_version_rotation_and_binding() -> None:
    mixed = cipher(f"1:{K1},2:SM4-GCM:{SM4_KEY}", current=2)
    assert mixed.keyring.current_key.algorithm is Algorithm.SM4_GCM
    old = V1.encrypt(TEXTBOOK, **PLACE)
    new = mixed.rotate(old, **PLACE)
    assert new.startswith("v2:")
    assert mixed.decrypt(new, **PLACE) == TEXTBOOK
    with pytest.raises(DecryptionError):
        mixed.decrypt(new, **{**PLACE, "row": "other"})
    # The algorithm is part of the associated data: the same token is not accepted as AES.
    payload = bytes(_raw(new)[1])
    aes_aad = associated_data(**PLACE, version=2, algorithm=Algorithm.AES_256_GCM)
    sm4_aad = associated_data(**PLACE, version=2, algorithm=Algorithm.SM4_GCM)
    assert aes_aad != sm4_aad
    key = base64.b64decode(SM4_KEY)
    assert crypto._sm4_open(key, payload[:12], sm4_aad, payload[12:]) == TEXTBOOK.encode()
    with pytest.raises(InvalidTag):
        crypto._sm4_open(key, payload[:12], aes_aad, payload[12:])


@needs_sm4
def test_sm4_key_length_is_checked() -> None:
    with pytest.raises(KeyConfigError, match="v1: SM4-GCM needs a 16-byte key, got 32"):
        Keyring.from_config(f"1:SM4-GCM:{K1}", 1, INDEX)


def test_aes_gcm_known_answer() -> None:
    # McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256).
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    nonce = bytes.fromhex("cafebabefacedbaddecaf888")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    plaintext = bytes.fromhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    )
    expected = bytes.fromhex(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        "76fc6ece0f4e1768cddf8853bb2d551b"
    )
    ring = Keyring(
        keys={1: EncryptionKey(1, Algorithm.AES_256_GCM, key)},
        current=1,
        index_key=bytes(range(32)),
    )
    assert SoftwareFieldCipher(ring)._seal(ring.keys[1], nonce, aad, plaintext) == expected
