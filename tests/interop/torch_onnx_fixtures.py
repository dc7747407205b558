"""Writes small PyTorch models as ONNX files (torch.onnx.export) at several opsets, with inputs and PyTorch's outputs.

usage: torch_onnx_fixtures.py OUTDIR

Together the models hold every op Dendrite's ONNX importer lists: Conv (strides; symmetric, "same" and asymmetric
padding, the last through a Pad node), Gemm, MatMul, Add, Relu, Sigmoid, Tanh, Softmax, LogSoftmax, MaxPool and
AveragePool (pool size other than the stride), GlobalAveragePool, BatchNormalization (eval mode, moved statistics, over
images and over features), Flatten, Dropout, Identity, and Reshape fed by the Shape/Gather/Unsqueeze/Concat/Constant
chain that x.view(x.size(0), -1) exports to. One model is saved with its weights in an external data file.

The opsets are those this torch exports (7 to 17 for Debian's torch 1.13; each model at 7, 9, 11, 13 and 17), and 18
and 21: the opset-17 file with its opset raised, which is a valid model because no op used here changed meaning
between 17 and 21 (the later versions add element types, and AveragePool's dilations, default 1).

Dropout and Identity do not survive torch.onnx.export of a model in eval mode, so they are put into the exported
graph with the onnx package, in the form the opset asks: Dropout's ratio an attribute before opset 12, an input after.

Writes OUTDIR/manifest.json: one entry per file with the input (channels-last, as Dendrite takes images) and
PyTorch's output, both float32 little-endian C order.
"""
import json
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper

warnings.filterwarnings("ignore")   # torch.onnx's notes on shape inference and old opsets
torch.manual_seed(0)
torch.set_num_threads(1)
BATCH = 5


class ConvNet(nn.Module):
    """Conv stride 2 with pads 1 on an even input (not Keras's "same"), MaxPool 3/2, BatchNorm, a "same" conv,
    view(x.size(0), -1), Linear, log_softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 2 * 2, 7)

    def forward(self, x):
        x = F.relu(self.conv1(x))                  # 1x12x12 -> 4x6x6
        x = self.bn(F.max_pool2d(x, 3, stride=2))  # -> 4x2x2; after the pool, so that the export does not fold it into the conv
        x = torch.tanh(self.conv2(x))              # -> 6x2x2
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x), dim=1)


class PadNet(nn.Module):
    """Asymmetric zero padding (a Pad node), conv stride 2, sigmoid, avg pool 3/2, conv "same", global average
    pool, flatten, softmax. Three input channels."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 5, 3, stride=2)
        self.conv2 = nn.Conv2d(5, 4, 3, padding=1)
        self.fc = nn.Linear(4, 6)

    def forward(self, x):
        x = F.pad(x, (0, 1, 0, 1))                  # 3x12x12 -> 3x13x13: one column right, one row below
        x = torch.sigmoid(self.conv1(x))           # -> 5x6x6
        x = F.avg_pool2d(x, 3, stride=2)           # -> 5x2x2
        x = F.relu(self.conv2(x))                  # -> 4x2x2
        x = F.adaptive_avg_pool2d(x, 1)            # GlobalAveragePool
        x = torch.flatten(x, 1)
        return F.softmax(self.fc(x), dim=1)


class Mlp(nn.Module):
    """Gemm (Linear with bias), MatMul + Add (Linear without bias, then a bias of its own), BatchNorm over
    features, tanh, sigmoid."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 16)
        self.fc2 = nn.Linear(16, 12, bias=False)
        self.extra = nn.Parameter(torch.randn(12))
        self.bn = nn.BatchNorm1d(12)
        self.fc3 = nn.Linear(12, 4)

    def forward(self, x):
        x = torch.tanh(self.fc1(x))
        x = self.fc2(x) + self.extra
        x = torch.sigmoid(self.bn(x))
        return self.fc3(x)


def moved_statistics(model):
    """BatchNorm running statistics away from 0 and 1, so that using them (or not) shows."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def insert_dropout_and_identity(model, opset):
    """Dropout then Identity on the graph's input, before its first node: both are the identity at inference."""
    graph = model.graph
    source = graph.input[0].name
    nodes = []
    if opset < 12:
        nodes.append(helper.make_node("Dropout", [source], ["dropped"], name="dropout", ratio=0.25))
    else:
        ratio = helper.make_tensor("dropout_ratio", onnx.TensorProto.FLOAT, [], [0.25])
        graph.initializer.append(ratio)
        nodes.append(helper.make_node("Dropout", [source, "dropout_ratio"], ["dropped"], name="dropout"))
    nodes.append(helper.make_node("Identity", ["dropped"], ["kept"], name="identity"))
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == source:
                node.input[i] = "kept"
    for n in reversed(nodes):
        graph.node.insert(0, n)


IR_FOR_OPSET = {18: 8, 21: 10}


def export(model, x, path, opset, dynamic):
    kwargs = dict(input_names=["input"], output_names=["output"], opset_version=min(opset, 17))
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, x, path, **kwargs)
    m = onnx.load(path)
    if opset > 17:
        for o in m.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = opset
        m.ir_version = IR_FOR_OPSET[opset]
    return m


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = [
        ("convnet", moved_statistics(ConvNet()), torch.randn(BATCH, 1, 12, 12), True, False),
        ("padnet", moved_statistics(PadNet()), torch.rand(BATCH, 3, 12, 12), True, True),
        ("mlp", moved_statistics(Mlp()), torch.randn(BATCH, 20), False, True),
    ]
    manifest = []
    for name, model, x, dynamic, dropout in cases:
        with torch.no_grad():
            y = model(x).numpy().astype(np.float32)
        channels_last = x.permute(0, 2, 3, 1) if x.dim() == 4 else x
        channels_last.contiguous().numpy().astype("<f4").tofile(os.path.join(out, f"{name}.in.f32"))
        y.astype("<f4").tofile(os.path.join(out, f"{name}.out.f32"))
        for opset in (7, 9, 11, 13, 17, 18, 21):
            file = f"{name}-opset{opset}.onnx"
            path = os.path.join(out, file)
            m = export(model, x, path, opset, dynamic)
            if dropout:
                insert_dropout_and_identity(m, opset)
            onnx.save(m, path)
            manifest.append(dict(file=file, opset=opset, input=f"{name}.in.f32", input_shape=list(channels_last.shape),
                                 output=f"{name}.out.f32", output_shape=list(y.shape)))
    # The convnet with every weight in one external data file beside the model.
    folder = os.path.join(out, "external")
    os.makedirs(folder, exist_ok=True)
    m = onnx.load(os.path.join(out, "convnet-opset13.onnx"))
    onnx.save_model(m, os.path.join(folder, "convnet.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="convnet.onnx.data", size_threshold=0)
    manifest.append(dict(file="external/convnet.onnx", opset=13, input="convnet.in.f32",
                         input_shape=[BATCH, 12, 12, 1], output="convnet.out.f32", output_shape=[BATCH, 7]))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"torch": torch.__version__, "onnx": onnx.__version__, "files": len(manifest)}))


if __name__ == "__main__":
    main()
