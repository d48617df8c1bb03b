#!/usr/bin/env python3
"""Check a `signoff audit prove` object without signoff, from SPEC.md alone.

usage: verify-inclusion.py [--key VKEY|@FILE] [--checkpoint FILE] [--allow-unsigned] [PROVE_JSON|-]

Checks, one output line each, stopping with exit status 1 at the first failure:
  1. record: its `hash` recomputes from its fields (SPEC "Audit store" chain hash);
  2. leaf:   leaf_hash = SHA-256(0x00 || record hash bytes) and leaf_index = seq - 1;
  3. proof:  the RFC 9162 inclusion path leads from that leaf to root_hash;
  4. checkpoint: the signed note (from the JSON, or --checkpoint FILE) carries a valid
     Ed25519 signature by the --key verifier key (golang.org/x/mod/sumdb/note format),
     and names that key as origin, tree_size as size and root_hash as root.
Without a checkpoint (or without --key) the root is unwitnessed: exit 1 unless
--allow-unsigned. Needs python3 and the `cryptography` package (python3-cryptography).
"""
import argparse, base64, hashlib, json, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FIELDS = ("seq", "ts", "platform", "workspace", "channel", "actor", "action", "subject",
          "revision", "outcome", "detail", "prev_hash")


class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def sha(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def b64(text, what, size=None):
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise Fail(f"{what} is not standard base64") from None
    need(size is None or len(raw) == size, f"{what} is not {size} bytes")
    return raw


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def field_text(rec, name):
    v = rec[name]
    if name == "detail" and isinstance(v, dict):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    if name == "revision" and v is None:
        return ""
    need(is_int(v) if name in ("seq", "revision") else isinstance(v, str), f"record field {name} has the wrong type")
    return str(v)


def root_from_path(index, size, leaf, path):
    # RFC 9162 section 2.1.3.2, step by step.
    need(0 <= index < size, f"leaf_index {index} is not inside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        need(sn != 0, "proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = sha(b"\x01", p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha(b"\x01", r, p)
        fn, sn = fn >> 1, sn >> 1
    need(sn == 0, "proof is shorter than the tree needs")
    return r


def parse_vkey(vkey):
    name, _, rest = vkey.partition("+")
    id_hex, _, key64 = rest.partition("+")
    need(name and not any(c.isspace() or c == "+" for c in name), "verifier key: bad name")
    need(len(id_hex) == 8 and all(c in "0123456789abcdef" for c in id_hex), "verifier key: bad key ID")
    key = b64(key64, "verifier key", 33)
    need(key[0] == 1, "verifier key: not an Ed25519 key")
    need(sha(name.encode(), b"\n", key)[:4].hex() == id_hex, "verifier key: key ID does not match the key")
    return name, bytes.fromhex(id_hex), Ed25519PublicKey.from_public_bytes(key[1:])


def check_note(note, vkey, tree_size, root):
    name, key_id, pub = parse_vkey(vkey)
    need(all(c == "\n" or c >= " " for c in note), "checkpoint holds control characters")
    split = note.rfind("\n\n")
    need(split >= 0 and note.endswith("\n") and len(note) > split + 2,
         "checkpoint is not a signed note (text, a blank line, signature lines)")
    body, mine = note[:split + 1], []
    for line in note[split + 2:-1].split("\n"):
        need(line.startswith("\u2014 ") and " " in line[2:], f"checkpoint: bad signature line {line[:40]!r}")
        who, _, sig64 = line[2:].partition(" ")
        sig = b64(sig64, "checkpoint signature")
        need(len(sig) > 4, "checkpoint signature is too short")
        if who == name and sig[:4] == key_id:
            mine.append(sig[4:])
    need(mine, f"checkpoint carries no signature by {name}+{key_id.hex()}")
    for sig in mine:  # like Go's note.Open, every line claiming this key must verify
        try:
            pub.verify(sig, body.encode("utf-8"))
        except InvalidSignature:
            raise Fail(f"checkpoint signature by {name} does not verify") from None
    lines = body.split("\n")
    need(len(lines) >= 4, "checkpoint body has fewer than three lines")
    origin, size, root64 = lines[:3]
    need(origin == name, f"checkpoint origin {origin!r} is not the key's name {name!r}")
    need(size.isdigit() and size.isascii() and (size == "0" or size[0] != "0"), "checkpoint size is not decimal")
    need(int(size) == tree_size, f"checkpoint size {size} is not tree_size {tree_size}: "
                                 f"rerun `signoff audit prove --size {size}`")
    need(b64(root64, "checkpoint root", 32) == root, "checkpoint root is not root_hash")
    return f"checkpoint signed by {name} (key ID {key_id.hex()}), size {size}, root matches"


def verify(doc, vkey, kept_note, allow_unsigned):
    need(isinstance(doc, dict) and isinstance(doc.get("record"), dict), "input is not an `audit prove` object")
    rec, seq, index, size = doc["record"], doc.get("seq"), doc.get("leaf_index"), doc.get("tree_size")
    need(is_int(seq) and is_int(index) and is_int(size) and rec.get("seq") == seq,
         "seq, leaf_index and tree_size must be integers and record.seq must equal seq")
    need(all(f in rec for f in FIELDS + ("hash",)), "record lacks a column")
    digest = hashlib.sha256("\x1f".join(field_text(rec, f) for f in FIELDS).encode("utf-8")).hexdigest()
    need(rec["hash"] == digest, f"record hash: seq {seq} recomputes to {digest}, record says {str(rec['hash'])[:80]!r}")
    print(f"ok  record: seq {seq} hashes to {digest}")
    leaf = sha(b"\x00", bytes.fromhex(digest))
    need(b64(doc.get("leaf_hash"), "leaf_hash", 32) == leaf, "leaf_hash is not SHA-256(0x00 || record hash)")
    need(index == seq - 1, f"leaf_index {index} is not seq - 1 = {seq - 1}")
    print(f"ok  leaf: leaf_hash matches the record, leaf_index {index}")
    root = b64(doc.get("root_hash"), "root_hash", 32)
    need(isinstance(doc.get("proof"), list), "proof is not a list")
    path = [b64(p, f"proof[{i}]", 32) for i, p in enumerate(doc["proof"])]
    need(root_from_path(index, size, leaf, path) == root, "proof does not lead to root_hash")
    print(f"ok  proof: {len(path)} hashes lead to root_hash of the tree of size {size}")
    note = kept_note if kept_note is not None else doc.get("checkpoint")
    need(note is None or isinstance(note, str), "checkpoint is neither a string nor null")
    if note is None or not vkey:
        why = "no checkpoint of this size" if note is None else "no --key given"
        need(allow_unsigned, f"root is unwitnessed ({why}); pass --allow-unsigned to accept that")
        print(f"--  checkpoint: root is unwitnessed ({why})")
        return
    print("ok  " + check_note(note, vkey, size, root))


def main():
    ap = argparse.ArgumentParser(description="Check a `signoff audit prove` object from SPEC alone.")
    ap.add_argument("--key", help="verifier key NAME+KEYID+BASE64, or @FILE holding it")
    ap.add_argument("--checkpoint", metavar="FILE", help="a signed checkpoint kept apart from the log")
    ap.add_argument("--allow-unsigned", action="store_true", help="exit 0 without a witnessed root")
    ap.add_argument("prove_json", nargs="?", default="-", metavar="PROVE_JSON|-")
    args = ap.parse_args()
    try:
        vkey, kept = args.key, None
        if vkey and vkey.startswith("@"):
            with open(vkey[1:], encoding="utf-8") as f:
                vkey = f.read().strip()
        if args.checkpoint:
            with open(args.checkpoint, encoding="utf-8", newline="") as f:
                # A copy from chat may come back with CRLF or without the last newline;
                # neither touches the signed body, which never holds CR.
                kept = f.read().replace("\r\n", "\n")
                kept += "" if kept.endswith("\n") else "\n"
        if args.prove_json == "-":
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(args.prove_json, encoding="utf-8") as f:
                text = f.read()
        verify(json.loads(text), vkey, kept, args.allow_unsigned)
    except Fail as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        print(f"FAIL unreadable input: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
