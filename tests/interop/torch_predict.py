"""Reproduces a Dendrite model's predictions in PyTorch, from the file format's description alone.

The file is safetensors: 8-byte little-endian header length N, N bytes of JSON, then raw little-endian
float32 tensors at the header's data_offsets. The JSON's __metadata__.config describes the layers:
Flatten, Rescaling (x*scale + offset), Dense (x @ kernel + bias, kernel shaped (in, units)), Activation.
__metadata__.checksum is "crc32c:" and the CRC-32C of the whole file with those 8 hex digits read as "0"s;
it is verified here, from that description, before anything else.

usage: torch_predict.py MODEL INPUT.f32 ROWS OUTPUT.f32   (raw float32, inputs shaped (ROWS, input_shape...))
"""
import json
import struct
import sys

import numpy as np
import torch

model_path, input_path, rows, output_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(model_path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]


def crc32c(buf):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for b in buf:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


stored = header["__metadata__"]["checksum"]
at = raw.index(('"' + stored + '"').encode(), 8) + 1 + len("crc32c:")
zeroed = raw[:at] + b"0" * 8 + raw[at + 8:]
assert stored == "crc32c:%08x" % crc32c(zeroed), "checksum mismatch"
config = json.loads(header["__metadata__"]["config"])


def tensor(name):
    h = header[name]
    assert h["dtype"] == "F32"
    begin, end = h["data_offsets"]
    return torch.from_numpy(np.frombuffer(data[begin:end], dtype="<f4").reshape(h["shape"]).copy())


activations = {"linear": lambda x: x, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
               "softmax": lambda x: torch.softmax(x, dim=-1)}
x = torch.from_numpy(np.fromfile(input_path, dtype="<f4").reshape([rows] + config["input_shape"]))
with torch.no_grad():
    for layer in config["layers"]:
        kind, c = layer["class_name"], layer["config"]
        if kind == "Flatten":
            x = x.reshape(rows, -1)
        elif kind == "Rescaling":
            x = x * c["scale"] + c["offset"]
        elif kind == "Dense":
            x = x @ tensor(c["name"] + "/kernel")
            if c["use_bias"]:
                x = x + tensor(c["name"] + "/bias")
            x = activations[c["activation"]](x)
        elif kind == "Activation":
            x = activations[c["activation"]](x)
        else:
            raise SystemExit("unknown layer " + kind)
x.numpy().astype("<f4").tofile(output_path)
print(json.dumps({"rows": rows, "outputs": list(x.shape), "checksum": "verified"}))
