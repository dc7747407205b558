"""Reproduces a Dendrite model's predictions in PyTorch, from the file format's description alone.

The file is safetensors: 8-byte little-endian header length N, N bytes of JSON, then raw little-endian
float32 tensors at the header's data_offsets. The JSON's __metadata__.config describes the layers, on items
laid out channels-last (height, width, channels) as Keras:
Flatten, Reshape (target_shape), Rescaling (x*scale + offset), Dense (x @ kernel + bias, kernel shaped (in, units)),
Activation, Conv2D (kernel (kh, kw, in, out), strides, padding "valid"/"same" with the odd pixel at the bottom/right),
MaxPooling2D / AveragePooling2D (pool_size, strides, padding; averages count only pixels inside the image),
GlobalAveragePooling2D, BatchNormalization (gamma, beta, moving_mean, moving_variance, epsilon; last axis), Dropout
(identity when predicting).

usage: torch_predict.py MODEL INPUT.f32 ROWS OUTPUT.f32   (raw float32, inputs shaped (ROWS, input_shape...))
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

model_path, input_path, rows, output_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(model_path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
config = json.loads(header["__metadata__"]["config"])


def tensor(name):
    h = header[name]
    assert h["dtype"] == "F32"
    begin, end = h["data_offsets"]
    return torch.from_numpy(np.frombuffer(data[begin:end], dtype="<f4").reshape(h["shape"]).copy())


def pad_same(x, window, strides):
    """Zero-pads NCHW x as TensorFlow's "same": total = max((out-1)*stride + window - in, 0), the extra pixel last."""
    pads = []
    for dim, k, s in ((3, window[1], strides[1]), (2, window[0], strides[0])):
        size = x.shape[dim]
        out = -(-size // s)
        total = max((out - 1) * s + k - size, 0)
        pads += [total // 2, total - total // 2]
    return pads


activations = {"linear": lambda x: x, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
               "softmax": lambda x: torch.softmax(x, dim=-1)}
x = torch.from_numpy(np.fromfile(input_path, dtype="<f4").reshape([rows] + config["input_shape"]))
with torch.no_grad():
    for layer in config["layers"]:
        kind, c = layer["class_name"], layer["config"]
        if kind == "Flatten":
            x = x.reshape(rows, -1)
        elif kind == "Reshape":
            x = x.reshape([rows] + c["target_shape"])
        elif kind == "Rescaling":
            x = x * c["scale"] + c["offset"]
        elif kind == "Dense":
            x = x @ tensor(c["name"] + "/kernel")
            if c["use_bias"]:
                x = x + tensor(c["name"] + "/bias")
            x = activations[c["activation"]](x)
        elif kind == "Activation":
            x = activations[c["activation"]](x)
        elif kind == "Conv2D":
            w = tensor(c["name"] + "/kernel").permute(3, 2, 0, 1)            # (kh, kw, in, out) -> (out, in, kh, kw)
            b = tensor(c["name"] + "/bias") if c["use_bias"] else None
            xc = x.permute(0, 3, 1, 2)
            if c["padding"] == "same":
                xc = F.pad(xc, pad_same(xc, c["kernel_size"], c["strides"]))
            x = activations[c["activation"]](F.conv2d(xc, w, b, stride=c["strides"]).permute(0, 2, 3, 1))
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            xc = x.permute(0, 3, 1, 2)
            if kind == "MaxPooling2D":
                if c["padding"] == "same":
                    xc = F.pad(xc, pad_same(xc, c["pool_size"], c["strides"]), value=float("-inf"))
                y = F.max_pool2d(xc, c["pool_size"], c["strides"])
            else:
                if c["padding"] == "same":
                    pads = pad_same(xc, c["pool_size"], c["strides"])
                    ones = F.pad(torch.ones_like(xc[:, :1]), pads)
                    xc = F.pad(xc, pads)
                    y = F.avg_pool2d(xc, c["pool_size"], c["strides"]) / F.avg_pool2d(ones, c["pool_size"], c["strides"])
                else:
                    y = F.avg_pool2d(xc, c["pool_size"], c["strides"])
            x = y.permute(0, 2, 3, 1)
        elif kind == "GlobalAveragePooling2D":
            x = x.mean(dim=(1, 2))
        elif kind == "BatchNormalization":
            name = c["name"]
            mean, var = tensor(name + "/moving_mean"), tensor(name + "/moving_variance")
            gamma = tensor(name + "/gamma") if c["scale"] else torch.ones_like(mean)
            beta = tensor(name + "/beta") if c["center"] else torch.zeros_like(mean)
            x = (x - mean) / torch.sqrt(var + c["epsilon"]) * gamma + beta
        elif kind == "Dropout":
            pass
        else:
            raise SystemExit("unknown layer " + kind)
x.numpy().astype("<f4").tofile(output_path)
print(json.dumps({"rows": rows, "outputs": list(x.shape)}))
