#!/usr/bin/env python3
"""Keras-layout model files written with h5py (no Keras here), with reference outputs computed by PyTorch in float64.

usage: keras_fixtures.py OUT_DIR

Each model is a list of Keras layers (class name, config, weights in Keras's own layout: Dense kernels (in, out),
Conv2D kernels (kh, kw, in, out), BatchNormalization gamma, beta, moving mean, moving variance). It is written in the
container its case names, the way that Keras version writes it:
  keras2-h5   legacy HDF5 of Keras 2: batch_input_shape, dtype strings, weights under model_weights/L/L/NAME:0
  keras3-h5   legacy HDF5 of Keras 3: batch_shape, DTypePolicy dicts, weights under model_weights/L/sequential/L/NAME
  keras3-zip  the v3 .keras zip: config.json, metadata.json, model.weights.h5 with layers/KEY/vars/I
  keras215-zip the v3 zip as Keras 2.13-2.15 wrote it: _layer_checkpoint_dependencies/NAME/vars/I
The reference runs the same layers with torch.nn.functional in float64, channels-first inside, following Keras's
semantics: "same" padding as TensorFlow pads (the extra row or column after), average pooling over the valid cells
only, Flatten in the order its data_format gives. OUT_DIR/manifest.json lists, for each file, the input (always
channels-last, as Dendrite takes images) and the expected output, as float32 little-endian files.
"""
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(20261203)


def rand(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def dtype_policy(version):
    if version == 2:
        return "float32"
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


class Model:
    """A chain of Keras layers with their weights; shape is Keras's logical shape (batch left out)."""

    def __init__(self, input_shape, version, channels_first=False):
        self.input_shape = list(input_shape)
        self.version = version
        self.channels_first = channels_first
        self.layers = []  # (class, config, [weights], weight names)
        self.counts = {}

    def name(self, snake):
        n = self.counts.get(snake, 0)
        self.counts[snake] = n + 1
        return snake if n == 0 else f"{snake}_{n}"

    def add(self, cls, snake, cfg, weights=(), names=()):
        cfg = dict(cfg)
        cfg["name"] = self.name(snake)
        cfg["trainable"] = True
        cfg["dtype"] = dtype_policy(self.version)
        self.layers.append((cls, cfg, [np.asarray(w, np.float32) for w in weights], list(names)))
        return self

    def fmt(self, data_format):
        return data_format or ("channels_first" if self.channels_first else "channels_last")

    def dense(self, units, inputs, activation="linear", use_bias=True):
        w = [rand(inputs, units)] + ([rand(units, scale=0.1)] if use_bias else [])
        return self.add("Dense", "dense", {"units": units, "activation": activation, "use_bias": use_bias}, w, ["kernel", "bias"][: len(w)])

    def conv(self, filters, cin, k, strides=(1, 1), padding="valid", activation="linear", use_bias=True, data_format=None):
        w = [rand(k[0], k[1], cin, filters)] + ([rand(filters, scale=0.1)] if use_bias else [])
        cfg = {"filters": filters, "kernel_size": list(k), "strides": list(strides), "padding": padding, "data_format": self.fmt(data_format),
               "dilation_rate": [1, 1], "groups": 1, "activation": activation, "use_bias": use_bias}
        return self.add("Conv2D", "conv2d", cfg, w, ["kernel", "bias"][: len(w)])

    def pool(self, cls, snake, pool, strides=None, padding="valid", data_format=None):
        cfg = {"pool_size": list(pool), "padding": padding, "strides": list(strides) if strides else None, "data_format": self.fmt(data_format)}
        return self.add(cls, snake, cfg)

    def batch_norm(self, channels, axis=-1, epsilon=1e-3, center=True, scale=True):
        w, names = [], []
        if scale:
            w.append(rng.uniform(0.5, 1.5, channels)); names.append("gamma")
        if center:
            w.append(rand(channels, scale=0.3)); names.append("beta")
        w += [rand(channels, scale=0.5), rng.uniform(0.3, 2.0, channels)]
        names += ["moving_mean", "moving_variance"]
        cfg = {"axis": axis, "momentum": 0.99, "epsilon": epsilon, "center": center, "scale": scale}
        return self.add("BatchNormalization", "batch_normalization", cfg, w, names)

    # Keras 3 writes BatchNormalization's weights in the order gamma, beta, moving_mean, moving_variance too.

    def config(self, functional=False):
        input_layer = {"class_name": "InputLayer", "config": {("batch_input_shape" if self.version == 2 else "batch_shape"): [None] + self.input_shape,
                                                              "dtype": "float32", "sparse": False, "ragged": False,
                                                              "name": "input_1" if self.version == 2 else "input_layer"}}
        layers = [input_layer] + [{"class_name": c, "config": cfg} for c, cfg, _, _ in self.layers]
        if self.version == 3:
            for l in layers:
                l["module"] = "keras.layers"
                l["registered_name"] = None
        if not functional:
            cfg = {"name": "sequential", "layers": layers}
            root = {"class_name": "Sequential", "config": cfg}
            if self.version == 3:
                root["module"] = "keras"
            return root
        # A Functional model: every layer names the layer it takes its input from.
        previous = None
        for l in layers:
            name = l["config"]["name"]
            l["name"] = name
            if previous is None:
                l["inbound_nodes"] = []
            elif self.version == 2:
                l["inbound_nodes"] = [[[previous, 0, 0, {}]]]
            else:
                l["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [None], "dtype": "float32", "keras_history": [previous, 0, 0]}}], "kwargs": {}}]
            previous = name
        first = layers[0]["name"]
        if self.version == 2:
            cfg = {"name": "model", "layers": layers, "input_layers": [[first, 0, 0]], "output_layers": [[previous, 0, 0]]}
        else:
            cfg = {"name": "functional", "trainable": True, "layers": layers, "input_layers": [first, 0, 0], "output_layers": [previous, 0, 0]}
        root = {"class_name": "Functional", "config": cfg}
        if self.version == 3:
            root["module"] = "keras.src.models.functional"
            root["registered_name"] = "Functional"
        return root


# ---------------------------------------------------------------------------------------------- reference (torch)

def tf_same(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def to_nchw(x, cf):
    return x if cf else x.permute(0, 3, 1, 2)


def from_nchw(x, cf):
    return x if cf else x.permute(0, 2, 3, 1)


def act(x, name):
    return {"linear": lambda v: v, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "softmax": lambda v: torch.softmax(v, -1), "log_softmax": lambda v: torch.log_softmax(v, -1)}[name](x)


def run(model, x):
    """Keras's forward pass, x in Keras's logical layout (float64)."""
    x = torch.from_numpy(x.astype(np.float64))
    for cls, cfg, w, _ in model.layers:
        w = [torch.from_numpy(v.astype(np.float64)) for v in w]
        cf = cfg.get("data_format") == "channels_first"
        if cls == "Dense":
            x = x @ w[0] + (w[1] if len(w) > 1 else 0)
            x = act(x, cfg["activation"])
        elif cls == "Conv2D":
            t = to_nchw(x, cf)
            kh, kw = cfg["kernel_size"]
            sh, sw = cfg["strides"]
            if cfg["padding"] == "same":
                pt, pb = tf_same(t.shape[2], kh, sh)
                pl, pr = tf_same(t.shape[3], kw, sw)
                t = F.pad(t, (pl, pr, pt, pb))
            t = F.conv2d(t, w[0].permute(3, 2, 0, 1), w[1] if len(w) > 1 else None, stride=(sh, sw))
            x = act(from_nchw(t, cf), cfg["activation"])
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            t = to_nchw(x, cf)
            kh, kw = cfg["pool_size"]
            sh, sw = cfg["strides"] or cfg["pool_size"]
            pads = (0, 0, 0, 0)
            if cfg["padding"] == "same":
                pt, pb = tf_same(t.shape[2], kh, sh)
                pl, pr = tf_same(t.shape[3], kw, sw)
                pads = (pl, pr, pt, pb)
            if cls == "MaxPooling2D":
                t = F.max_pool2d(F.pad(t, pads, value=-np.inf), (kh, kw), (sh, sw))
            else:
                total = F.avg_pool2d(F.pad(t, pads), (kh, kw), (sh, sw), divisor_override=1)
                count = F.avg_pool2d(F.pad(torch.ones_like(t), pads), (kh, kw), (sh, sw), divisor_override=1)
                t = total / count
            x = from_nchw(t, cf)
        elif cls == "GlobalAveragePooling2D":
            x = x.mean(dim=(2, 3) if cf else (1, 2))
        elif cls == "ZeroPadding2D":
            (t_, b_), (l_, r_) = cfg["padding"]
            x = from_nchw(F.pad(to_nchw(x, cf), (l_, r_, t_, b_)), cf)
        elif cls == "Flatten":
            if cf and x.dim() == 4:
                x = x.permute(0, 2, 3, 1)  # Keras's Flatten moves channels last first when its data_format is channels_first
            x = x.reshape(x.shape[0], -1)
        elif cls == "Reshape":
            x = x.reshape(x.shape[0], *cfg["target_shape"])
        elif cls == "Rescaling":
            x = x * cfg["scale"] + cfg["offset"]
        elif cls == "Activation":
            x = act(x, cfg["activation"])
        elif cls == "Dropout":
            pass
        elif cls == "BatchNormalization":
            axis = cfg["axis"]
            axis = axis[0] if isinstance(axis, list) else axis
            axis = axis if axis >= 0 else x.dim() + axis
            shape = [1] * x.dim()
            shape[axis] = -1
            i = 0
            gamma = w[i] if cfg["scale"] else torch.ones(1, dtype=torch.float64)
            i += 1 if cfg["scale"] else 0
            beta = w[i] if cfg["center"] else torch.zeros(1, dtype=torch.float64)
            i += 1 if cfg["center"] else 0
            mean, var = w[i], w[i + 1]
            x = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + cfg["epsilon"]) * gamma.reshape(shape) + beta.reshape(shape)
        else:
            raise ValueError(cls)
    return x.numpy()


# ---------------------------------------------------------------------------------------------- containers

def legacy_h5(model, path, functional=False, byte_strings=False):
    """Keras 2 (byte_strings: as Keras 2.0-2.2 did, fixed-length byte strings) or Keras 3 legacy HDF5."""
    with h5py.File(path, "w") as f:
        config = json.dumps(model.config(functional))
        f.attrs["model_config"] = config.encode() if byte_strings else config
        f.attrs["keras_version"] = "2.10.0" if model.version == 2 else "3.9.0"
        f.attrs["backend"] = "tensorflow"
        mw = f.create_group("model_weights")
        names = ([("input_1", [], [])] if functional and model.version == 2 else []) + [(cfg["name"], w, n) for _, cfg, w, n in model.layers]
        if byte_strings:
            mw.attrs["layer_names"] = np.array([n.encode() for n, _, _ in names], dtype="S")
        else:
            mw.attrs["layer_names"] = [n for n, _, _ in names]
        for name, weights, wnames in names:
            g = mw.create_group(name)
            paths = [f"{name}/{w}:0" if model.version == 2 else f"sequential/{name}/{w}" for w in wnames]
            if byte_strings:
                g.attrs["weight_names"] = np.array([p.encode() for p in paths], dtype="S") if paths else np.zeros(0, "S1")
            else:
                g.attrs["weight_names"] = paths if paths else np.zeros(0, np.float64)
            for p, w in zip(paths, weights):
                g.create_dataset(p, data=w)
        # Optimizer state, as model.save writes it with compile(): ignored by importers.
        f.create_group("optimizer_weights").create_dataset("iteration:0", data=np.array(7, np.int64))


def v3_zip(model, path, functional=False, keras215=False):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        root = f.create_group("_layer_checkpoint_dependencies" if keras215 else "layers")
        counts = {}
        for cls, cfg, weights, _ in model.layers:
            snake = {"Conv2D": "conv2d", "Dense": "dense", "BatchNormalization": "batch_normalization", "MaxPooling2D": "max_pooling2d",
                     "AveragePooling2D": "average_pooling2d", "GlobalAveragePooling2D": "global_average_pooling2d",
                     "ZeroPadding2D": "zero_padding2d"}.get(cls, cls.lower())
            n = counts.get(snake, 0)
            counts[snake] = n + 1
            key = cfg["name"] if keras215 else (snake if n == 0 else f"{snake}_{n}")
            v = root.create_group(key).create_group("vars")
            for i, w in enumerate(weights):
                v.create_dataset(str(i), data=w)
        f.create_group("vars")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "2.15.0" if keras215 else "3.13.2", "date_saved": "2026-12-03@12:00:00"}))
        z.writestr("config.json", json.dumps(model.config(functional)))
        z.writestr("model.weights.h5", buf.getvalue())


# ---------------------------------------------------------------------------------------------- the models

def cnn_same_strides(version):
    """Conv2D same with strides, BatchNormalization, max pooling same with strides, valid conv, average pooling same."""
    m = Model([13, 13, 1], version)
    m.conv(4, 1, (3, 3), (2, 2), "same", "relu").batch_norm(4).pool("MaxPooling2D", "max_pooling2d", (3, 3), (2, 2), "same")
    m.conv(5, 4, (2, 2), (1, 1), "valid", "tanh").pool("AveragePooling2D", "average_pooling2d", (2, 2), (1, 1), "same")
    m.add("Flatten", "flatten", {"data_format": "channels_last"}).add("Dropout", "dropout", {"rate": 0.5})
    m.dense(6, 3 * 3 * 5, "sigmoid").dense(3, 6, "softmax")
    return m


def cnn_colour(version):
    """Three channels, Rescaling, asymmetric ZeroPadding2D, a conv without bias, BatchNormalization without centre,
    Activation layers, average pooling valid with odd sizes, GlobalAveragePooling2D, log_softmax."""
    m = Model([10, 9, 3], version)
    m.add("Rescaling", "rescaling", {"scale": 0.5, "offset": -0.25})
    m.add("ZeroPadding2D", "zero_padding2d", {"padding": [[1, 2], [0, 1]], "data_format": "channels_last"})
    m.conv(6, 3, (3, 2), (1, 2), "same", use_bias=False).batch_norm(6, axis=3, epsilon=0.01, center=False)
    m.add("Activation", "activation", {"activation": "relu"})
    m.pool("AveragePooling2D", "average_pooling2d", (3, 2), (2, 1), "valid").pool("MaxPooling2D", "max_pooling2d", (2, 2), None, "valid")
    m.add("GlobalAveragePooling2D", "global_average_pooling2d", {"data_format": "channels_last", "keepdims": False})
    m.dense(4, 6).add("Activation", "activation", {"activation": "log_softmax" if version == 3 else "softmax"})
    return m


def mlp(version):
    """Reshape, Dense without bias, every dense activation, BatchNormalization on features."""
    m = Model([4, 5], version)
    m.add("Reshape", "reshape", {"target_shape": [20]}).dense(8, 20, "relu", use_bias=False).batch_norm(8)
    m.add("Dropout", "dropout", {"rate": 0.2}).dense(7, 8, "tanh").dense(6, 7, "sigmoid").dense(5, 6, "linear").dense(3, 5, "softmax")
    return m


def cnn_channels_first(version):
    """channels_first throughout, with a channels_last Flatten (Keras's (C, H, W) order) before the Dense layer."""
    m = Model([2, 9, 8], version, channels_first=True)
    m.conv(3, 2, (3, 3), (2, 2), "same", "relu").pool("MaxPooling2D", "max_pooling2d", (2, 2), (1, 1), "valid")
    m.batch_norm(3, axis=1).add("Flatten", "flatten", {"data_format": "channels_last"}).add("Dropout", "dropout", {"rate": 0.1})
    m.dense(4, 3 * 4 * 3, "softmax")
    return m


def cnn_channels_first_one(version):
    """channels_first with one channel, ZeroPadding2D, average pooling same, GlobalAveragePooling2D-free, Flatten
    channels_first (Dendrite's order already)."""
    m = Model([1, 8, 7], version, channels_first=True)
    m.add("ZeroPadding2D", "zero_padding2d", {"padding": [[1, 1], [2, 0]], "data_format": "channels_first"})
    m.conv(2, 1, (3, 3), (1, 1), "valid", "tanh").pool("AveragePooling2D", "average_pooling2d", (2, 2), (2, 2), "same")
    m.add("Flatten", "flatten", {"data_format": "channels_first"}).dense(3, 2 * 4 * 4, "softmax")
    return m


def cnn_channels_first_gap(version):
    m = Model([3, 6, 6], version, channels_first=True)
    m.conv(4, 3, (3, 3), (1, 1), "same", "relu").add("GlobalAveragePooling2D", "global_average_pooling2d", {"data_format": "channels_first"})
    m.dense(2, 4, "sigmoid")
    return m


CASES = [
    # name, model, container, functional
    ("keras2-cnn-same-strides.h5", cnn_same_strides(2), "keras2-h5", False),
    ("keras2-cnn-same-strides-bytes.h5", cnn_same_strides(2), "keras2-h5-bytes", False),
    ("keras3-cnn-same-strides.keras", cnn_same_strides(3), "keras3-zip", False),
    ("keras3-cnn-colour.h5", cnn_colour(3), "keras3-h5", False),
    ("keras3-cnn-colour.keras", cnn_colour(3), "keras3-zip", False),
    ("keras215-cnn-colour.keras", cnn_colour(2), "keras215-zip", False),
    ("keras2-mlp.h5", mlp(2), "keras2-h5", False),
    ("keras3-mlp.keras", mlp(3), "keras3-zip", False),
    ("keras2-channels-first.h5", cnn_channels_first(2), "keras2-h5", False),
    ("keras3-channels-first.keras", cnn_channels_first(3), "keras3-zip", False),
    ("keras2-channels-first-one.h5", cnn_channels_first_one(2), "keras2-h5", False),
    ("keras2-channels-first-gap.h5", cnn_channels_first_gap(2), "keras2-h5", False),
    ("keras2-functional-cnn.h5", cnn_same_strides(2), "keras2-h5", True),
    ("keras3-functional-cnn.keras", cnn_same_strides(3), "keras3-zip", True),
    ("keras3-functional-mlp.h5", mlp(3), "keras3-h5", True),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = []
    for name, model, container, functional in CASES:
        path = os.path.join(out, name)
        if container.startswith("keras2-h5") or container == "keras3-h5":
            legacy_h5(model, path, functional, byte_strings=container.endswith("bytes"))
        else:
            v3_zip(model, path, functional, keras215=container == "keras215-zip")
        x = rng.uniform(0, 1, [5] + model.input_shape).astype(np.float32)
        y = run(model, x).astype(np.float32)
        # Dendrite takes images channels-last.
        item = model.input_shape
        if model.channels_first and len(item) == 3:
            x = x.transpose(0, 2, 3, 1)
            item = [item[1], item[2], item[0]]
        stem = name.replace(".", "_")
        np.ascontiguousarray(x).astype("<f4").tofile(os.path.join(out, stem + ".in.f32"))
        y.astype("<f4").tofile(os.path.join(out, stem + ".out.f32"))
        manifest.append({"file": name, "container": container, "functional": functional, "channels_first": model.channels_first,
                         "input": stem + ".in.f32", "input_shape": [5] + item, "output": stem + ".out.f32", "output_shape": list(y.shape),
                         "layers": sorted({c for c, _, _, _ in model.layers} | {"InputLayer"}),
                         "activations": sorted({cfg["activation"] for _, cfg, _, _ in model.layers if "activation" in cfg})})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
