"""Minimal hand-written safetensors reader/writer (no `safetensors` package).

File layout (https://github.com/huggingface/safetensors):
  * 8 bytes: little-endian u64 N = length of the JSON header in bytes
  * N bytes: UTF-8 JSON object
        {"__metadata__": {"format": "pt"},
         "<name>": {"dtype": "F32"|"F16"|"BF16", "shape": [...], "data_offsets": [begin, end]}, ...}
    offsets are relative to the first byte after the header; the header is
    padded with ASCII spaces so that the data starts on an 8-byte boundary.
  * the raw little-endian tensor data, tensors laid out back to back.

Only the dtypes needed here are supported: F32, F16, BF16 (BF16 is read by
upcasting; writing BF16 truncates-with-rounding from float32).
"""

import json
import struct

import numpy as np
import torch

_DTYPES = {
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
}
_TORCH_TO_NAME = {v[0]: k for k, v in _DTYPES.items()}


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret the 16-bit payload.
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.float16:
        return t.numpy().astype("<f2").tobytes()
    if t.dtype == torch.float32:
        return t.numpy().astype("<f4").tobytes()
    raise ValueError(f"unsupported dtype {t.dtype}")


def save_file(tensors: dict, path: str, metadata: dict = None) -> None:
    """Write `tensors` (name -> torch.Tensor) to `path` in safetensors format.

    Tensors are stored in sorted-name order (as the reference implementation does)."""
    header = {}
    if metadata is None:
        metadata = {"format": "pt"}
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _TORCH_TO_NAME:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        data = _tensor_bytes(t)
        header[name] = {
            "dtype": _TORCH_TO_NAME[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-(len(hdr) + 8)) % 8
    hdr += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for b in blobs:
            f.write(b)


def read_header(path: str):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        hdr = json.loads(f.read(n).decode("utf-8"))
    return n, hdr


def load_file(path: str) -> dict:
    """Read a safetensors file into name -> torch.Tensor (original dtype)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in hdr.items():
        if name == "__metadata__":
            continue
        dtype_name = info["dtype"]
        if dtype_name not in _DTYPES:
            raise ValueError(f"{name}: unsupported dtype {dtype_name}")
        tdtype, size = _DTYPES[dtype_name]
        b, e = info["data_offsets"]
        shape = info["shape"]
        count = int(np.prod(shape)) if shape else 1
        if e - b != count * size:
            raise ValueError(f"{name}: byte size {e - b} != {count}*{size}")
        buf = raw[base + b:base + e]
        if dtype_name == "F32":
            arr = np.frombuffer(buf, dtype="<f4").copy()
            t = torch.from_numpy(arr)
        elif dtype_name == "F16":
            arr = np.frombuffer(buf, dtype="<f2").copy()
            t = torch.from_numpy(arr)
        else:  # BF16
            arr = np.frombuffer(buf, dtype="<i2").copy()
            t = torch.from_numpy(arr).view(torch.bfloat16)
        out[name] = t.reshape(shape)
    return out
