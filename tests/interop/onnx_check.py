"""Checks an ONNX file with the onnx package's checker (full check, with shape inference)."""
import sys

import onnx

model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
print("ok", model.ir_version, [(o.domain, o.version) for o in model.opset_import])
