#!/usr/bin/python3
"""Writes the pytorch_model.bin fixtures of tests/data/pickle/ (read by
tests/unit/test_pytorch_checkpoint.cpp) with Debian's python3-torch:

  small-zip.bin, small-legacy.bin   torch.save of one small state dict in both
      serialisations: tied tensors sharing a storage, a transposed view with an
      offset, float16, bfloat16, a 0-d tensor, an nn.Parameter; small.json
      lists every tensor's dtype, shape and values
  tiny-joint-zip.bin                tests/data/tiny-joint/model.safetensors as
      torch.save writes it (tied embeddings stored once)
  tiny-joint-legacy-views.bin       the same in the legacy format, every 2-d
      weight saved as a transposed view of its storage
  bad/*.bin                         hostile or broken files, each refused with a
      ModelError: see BAD below

Run from the repository root: /usr/bin/python3 tests/reference/make_pickle_fixtures.py
The legacy files are made reproducible by renaming the storage keys (torch
writes memory addresses) to 0, 1, ... in order of first use.
"""

import collections
import io
import json
import os
import pickle
import pickletools
import re
import struct
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "tests", "data", "pickle")


def renumber_legacy(data: bytes) -> bytes:
    """Renames torch's legacy storage keys (decimal addresses) to 0, 1, ..."""
    keys = []
    for m in re.finditer(rb"X(....)(\d{6,})", data, re.S):
        (n,) = struct.unpack("<I", m.group(1))
        key = m.group(2)[:n]
        if len(key) == n and key not in keys:
            keys.append(key)
    for i, key in enumerate(keys):
        new = str(i).encode()
        data = data.replace(b"X" + struct.pack("<I", len(key)) + key,
                            b"X" + struct.pack("<I", len(new)) + new)
    # torch writes the storages in the order of their sorted keys: put them in
    # the new keys' order.
    f = io.BytesIO(data)
    ends = []
    for _ in range(5):
        for op, arg, pos in pickletools.genops(f):
            pass
        ends.append(f.tell())
    types = {}

    class Reader(pickle.Unpickler):
        def find_class(self, module, name):
            if name == "OrderedDict":
                return collections.OrderedDict
            return (lambda *args: None) if name.startswith("_rebuild") else name

        def persistent_load(self, pid):
            types[pid[2]] = pid[1]

    Reader(io.BytesIO(data[ends[2]:ends[3]])).load()
    listed = pickle.loads(data[ends[3]:ends[4]])
    sizes = {"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2}
    records, at = {}, ends[4]
    for key in listed:
        (count,) = struct.unpack("<q", data[at:at + 8])
        end = at + 8 + count * sizes[types[key]]
        records[key] = data[at:end]
        at = end
    assert at == len(data)
    order = sorted(listed, key=int)
    return (data[:ends[3]] + pickle.dumps(order, protocol=2)
            + b"".join(records[k] for k in order))


def save(sd, path, legacy=False):
    buf = io.BytesIO()
    torch.save(sd, buf, _use_new_zipfile_serialization=not legacy)
    data = buf.getvalue()
    if legacy:
        data = renumber_legacy(data)
    with open(path, "wb") as f:
        f.write(data)


def small_state_dict():
    sd = collections.OrderedDict()
    w = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1
    sd["model.shared.weight"] = w
    sd["model.encoder.embed_tokens.weight"] = w  # tied: one storage
    sd["lm_head.weight"] = w
    sd["half"] = torch.tensor([0.5, -2.0, 65504.0, 1e-7, 0.0, -0.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.5, 1e30, 0.0078125], dtype=torch.bfloat16)
    sd["view"] = w.t()[1:]  # offset 1, strides (1, 4) into w's storage
    sd["row"] = w[2]  # offset 8, contiguous
    sd["scalar"] = torch.tensor(2.25)
    sd["param"] = torch.nn.Parameter(torch.tensor([[1.5, 2.5]]))
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return sd


def expected_json(sd):
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    return {
        name: {"dtype": names[t.dtype], "shape": list(t.shape),
               "values": [float(x) for x in t.detach().float().reshape(-1).tolist()]}
        for name, t in sd.items()
    }


# --- hand-made pickles and containers for the hostile files ----------------

def uni(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def bint(i):
    if -(1 << 31) <= i < (1 << 31):
        return b"J" + struct.pack("<i", i)
    return b"\x8a\x08" + struct.pack("<q", i)  # LONG1


def tup(values):
    return b"(" + b"".join(bint(v) for v in values) + b"t"


def tensor_pickle(entries, legacy=False, root_key=None):
    """An OrderedDict state dict as torch writes it; entries are
    (name, storage type, key, numel, offset, size, stride)."""
    out = b"\x80\x02ccollections\nOrderedDict\n)R("
    for name, typ, key, numel, off, size, stride in entries:
        pid = b"(" + uni("storage") + b"ctorch\n" + typ.encode() + b"\n" + uni(key) + uni("cpu")
        pid += bint(numel) + (b"N" if legacy else b"") + b"tQ"
        out += uni(name) + b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + bint(off)
        out += tup(size) + tup(stride) + b"\x89ccollections\nOrderedDict\n)RtR"
    out += b"u"
    if root_key is not None:  # {root_key: state dict}
        out = b"\x80\x02}(" + uni(root_key) + out[2:] + b"u"
    return out + b"."


def zip_bytes(pkl, storages, archive="archive", extra=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive}/data.pkl", pkl)
        for key, data in storages.items():
            z.writestr(f"{archive}/data/{key}", data)
        for name, data in extra:
            z.writestr(name, data)
        z.writestr(f"{archive}/version", b"3\n")
    return buf.getvalue()


def legacy_bytes(pkl, storages, little_endian=True, counts=None):
    out = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    out += pickle.dumps(1001, protocol=2)
    out += pickle.dumps({"protocol_version": 1001, "little_endian": little_endian,
                         "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    out += pkl
    out += pickle.dumps(list(storages), protocol=2)
    for key, (numel, data) in storages.items():
        out += struct.pack("<q", (counts or {}).get(key, numel)) + data
    return out


FLOATS = struct.pack("<6f", *range(6))
GOOD = [("w", "FloatStorage", "0", 6, 0, (2, 3), (3, 1))]


class PosixSystem:
    def __reduce__(self):
        return (os.system, ("touch /tmp/heed-pickle-pwned",))


def bad_files():
    good_zip = zip_bytes(tensor_pickle(GOOD), {"0": FLOATS})
    files = {
        # GLOBAL os system, called by REDUCE
        "os-system.bin": zip_bytes(b"\x80\x02cos\nsystem\n" + uni("touch /tmp/heed-pickle-pwned")
                                   + b"\x85R.", {}),
        # builtins.eval inside a legacy file's state dict pickle
        "builtins-eval.bin": legacy_bytes(b"\x80\x02cbuiltins\neval\n" + uni("1+1") + b"\x85R.",
                                          {}),
        # what pickle.dumps writes for os.system on Linux: STACK_GLOBAL posix system
        "posix-system.bin": zip_bytes(pickle.dumps(PosixSystem(), protocol=4), {}),
        # an allowed global that is no allowed callable
        "reduce-storage.bin": zip_bytes(b"\x80\x02ctorch\nFloatStorage\n" + bint(4) + b"\x85R.",
                                        {}),
        "memo-out-of-range.bin": zip_bytes(b"\x80\x02}q\x00h\x07.", {}),
        "stack-underflow.bin": zip_bytes(b"\x80\x02N\x86.", {}),
        # INST imports and calls (protocol 0): not in heed's subset
        "unknown-opcode.bin": zip_bytes(b"\x80\x02(ios\nsystem\n.", {}),
        # a string length beyond the pickle
        "long-string.bin": zip_bytes(b"\x80\x02X\xff\xff\xff\x7fabc.", {}),
        # legacy storage claiming 2^40 elements
        "storage-beyond-file.bin": legacy_bytes(
            tensor_pickle([("w", "FloatStorage", "0", 1 << 40, 0, (2, 3), (3, 1))], legacy=True),
            {"0": (1 << 40, FLOATS)}),
        # zip storage of 6 floats named as 600
        "zip-storage-size.bin": zip_bytes(
            tensor_pickle([("w", "FloatStorage", "0", 600, 0, (2, 3), (3, 1))]), {"0": FLOATS}),
        # a view reaching past its storage: offset 1 + (2-1)*3 + (3-1)*1 = 6
        "view-out-of-bounds.bin": zip_bytes(
            tensor_pickle([("w", "FloatStorage", "0", 6, 1, (2, 3), (3, 1))]), {"0": FLOATS}),
        # strides whose reach overflows 64 bits
        "view-overflow.bin": zip_bytes(
            tensor_pickle([("w", "FloatStorage", "0", 6, 0, (2, 2), (1 << 30, 1 << 30))]),
            {"0": FLOATS}),
        "truncated-zip.bin": good_zip[: len(good_zip) // 2],
        "truncated-legacy.bin": legacy_bytes(tensor_pickle(GOOD, legacy=True),
                                             {"0": (6, FLOATS)})[:-5],
        "path-traversal.bin": zip_bytes(tensor_pickle(GOOD), {"0": FLOATS},
                                        extra=[("../x", b"x")]),
        "big-endian.bin": legacy_bytes(tensor_pickle(GOOD, legacy=True), {"0": (6, FLOATS)},
                                       little_endian=False),
        "float64.bin": zip_bytes(
            tensor_pickle([("w", "DoubleStorage", "0", 3, 0, (3,), (1,))]), {"0": FLOATS[:24]}),
        "nested.bin": zip_bytes(tensor_pickle(GOOD, root_key="state_dict"), {"0": FLOATS}),
        "missing-storage.bin": zip_bytes(tensor_pickle(GOOD), {}),
        "not-a-checkpoint.bin": b"hello, this is not a checkpoint\n",
    }
    # a zip storage whose bytes fail their CRC
    z = bytearray(good_zip)
    at = bytes(z).find(FLOATS)
    z[at + 5] ^= 0xFF
    files["bad-crc.bin"] = bytes(z)
    return files


def main():
    os.makedirs(os.path.join(OUT, "bad"), exist_ok=True)
    sd = small_state_dict()
    save(sd, os.path.join(OUT, "small-zip.bin"))
    save(sd, os.path.join(OUT, "small-legacy.bin"), legacy=True)
    with open(os.path.join(OUT, "small.json"), "w") as f:
        json.dump(expected_json(sd), f, indent=1)
        f.write("\n")

    tiny = safetensors_io.load_file(os.path.join(ROOT, "tests", "data", "tiny-joint",
                                                 "model.safetensors"))
    tied = collections.OrderedDict()
    for name in sorted(tiny):
        tied[name] = tiny[name]
    # tie the embeddings as transformers does: one storage for all three
    shared = tied["model.shared.weight"]
    for name in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight",
                 "lm_head.weight"):
        if name in tied:
            assert torch.equal(tied[name], shared), name
            tied[name] = shared
    save(tied, os.path.join(OUT, "tiny-joint-zip.bin"))
    views = collections.OrderedDict()
    for name, t in tied.items():
        views[name] = t.t().contiguous().t() if t.dim() == 2 and t is not shared else t
    save(views, os.path.join(OUT, "tiny-joint-legacy-views.bin"), legacy=True)

    for name, data in bad_files().items():
        with open(os.path.join(OUT, "bad", name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
