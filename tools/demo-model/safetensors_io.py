"""Writes and reads .safetensors files by hand (no safetensors package on this machine).

Layout: 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a
multiple of 8 so the data is aligned), then the raw little-endian tensor bytes back to back.
"""
from __future__ import annotations

import json
import struct

import numpy as np
import torch

DTYPES = {torch.float16: ('F16', np.float16), torch.float32: ('F32', np.float32)}
NP_BY_NAME = {'F16': np.float16, 'F32': np.float32, 'BF16': None}


def write_safetensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Writes tensors (sorted by name, as huggingface/safetensors does) with string metadata."""
    header: dict = {'__metadata__': metadata}
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        dtype_name, np_dtype = DTYPES[t.dtype]
        data = t.numpy().astype(np_dtype, copy=False).astype(np.dtype(np_dtype).newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype_name, 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * ((8 - len(raw) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path: str) -> dict[str, torch.Tensor]:
    """Reads F16/F32 tensors back as float32 torch tensors (used to evaluate the shipped file)."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        arr = np.frombuffer(data[base + start:base + end], dtype=NP_BY_NAME[info['dtype']])
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(info['shape']))
    return out
