"""Hand-written safetensors writer and reader (there is no `safetensors` package here).

Layout (https://github.com/huggingface/safetensors):
  * 8 bytes: little-endian u64 N, the length of the JSON header;
  * N bytes: a UTF-8 JSON object
        {"__metadata__": {"format": "pt"},
         "<name>": {"dtype": "F16"|"F32"|"BF16", "shape": [...], "data_offsets": [begin, end]}, ...}
    with offsets relative to the first byte after the header; the header is
    padded with ASCII spaces so that 8 + N is a multiple of 8;
  * the raw little-endian tensor data, back to back, in the header's order
    (sorted by name, as the reference implementation writes them).
"""

import json
import struct

import numpy as np
import torch

_NAME_OF = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
_NUMPY_OF = {"F32": "<f4", "F16": "<f2", "BF16": "<i2"}
_SIZE_OF = {"F32": 4, "F16": 2, "BF16": 2}


def _raw_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: store the 16-bit payload
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(_NUMPY_OF[_NAME_OF[t.dtype]]).tobytes()


def save_file(tensors, path, metadata=None):
    """Write {name: tensor} (F32, F16 or BF16) to `path`."""
    header = {"__metadata__": {str(k): str(v) for k, v in (metadata or {"format": "pt"}).items()}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _NAME_OF:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        data = _raw_bytes(t)
        header[name] = {"dtype": _NAME_OF[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((-(8 + len(head))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def load_file(path):
    """Read a safetensors file -> {name: tensor} in the stored dtype."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in _NUMPY_OF:
            raise ValueError(f"{path}: {name}: unsupported dtype {dt}")
        b, e = info["data_offsets"]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if e - b != count * _SIZE_OF[dt]:
            raise ValueError(f"{path}: {name}: {e - b} bytes for {count} {dt} values")
        t = torch.from_numpy(np.frombuffer(raw[base + b:base + e], dtype=_NUMPY_OF[dt]).copy())
        if dt == "BF16":
            t = t.view(torch.bfloat16)
        out[name] = t.reshape(info["shape"])
    return out
