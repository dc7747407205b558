"""Runs a PyTorch optimizer for a few steps on given gradients and prints the weights after each step.

usage: torch_optim.py NAME SETTINGS_JSON W0_JSON GRADS_JSON
  NAME: sgd | adam | adamw; SETTINGS_JSON: keyword arguments of torch.optim.NAME (lr, betas, eps, amsgrad, momentum, ...);
  W0_JSON: the starting weights (a list); GRADS_JSON: a list of gradients, one list per step.
prints: one JSON list of weight lists, one after each step (float32 throughout).
"""
import json
import sys

import torch

name, settings, w0, grads = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
w = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float32))
if "betas" in settings:
    settings["betas"] = tuple(settings["betas"])
opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]([w], **settings)
out = []
for g in grads:
    w.grad = torch.tensor(g, dtype=torch.float32)
    opt.step()
    out.append([float(x) for x in w.detach()])
print(json.dumps(out))
