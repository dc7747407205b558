"""Checks Dendrite's onnx.proto against the onnx package's: every message, field and enum value Dendrite declares must
exist in ONNX's schema with the same number, type, label, message or enum type, packing and oneof.

usage: onnx_schema_check.py DESCRIPTOR   (a serialized FileDescriptorProto of Dendrite's onnx.proto)
"""
import sys

import onnx
from google.protobuf import descriptor_pb2

ours = descriptor_pb2.FileDescriptorProto.FromString(open(sys.argv[1], "rb").read())
theirs = descriptor_pb2.FileDescriptorProto()
onnx.onnx_ml_pb2.DESCRIPTOR.CopyToProto(theirs)
problems, checked = [], 0


def enums(mine, reference, where):
    global checked
    ref = {e.name: e for e in reference}
    for e in mine:
        if e.name not in ref:
            problems.append(f"{where}{e.name}: no such enum in ONNX")
            continue
        values = {v.name: v.number for v in ref[e.name].value}
        for v in e.value:
            checked += 1
            if values.get(v.name) != v.number:
                problems.append(f"{where}{e.name}.{v.name} = {v.number}; ONNX has {values.get(v.name)}")


def messages(mine, reference, where):
    global checked
    ref = {m.name: m for m in reference}
    for m in mine:
        if m.name not in ref:
            problems.append(f"{where}{m.name}: no such message in ONNX")
            continue
        r = ref[m.name]
        fields = {f.name: f for f in r.field}
        for f in m.field:
            checked += 1
            g = fields.get(f.name)
            if g is None:
                problems.append(f"{where}{m.name}.{f.name}: no such field in ONNX")
                continue
            mine_oneof = m.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
            ref_oneof = r.oneof_decl[g.oneof_index].name if g.HasField("oneof_index") else None
            for what, a, b in [("number", f.number, g.number), ("type", f.type, g.type), ("label", f.label, g.label),
                               ("type name", f.type_name, g.type_name), ("packed", f.options.packed, g.options.packed),
                               ("oneof", mine_oneof, ref_oneof)]:
                if a != b:
                    problems.append(f"{where}{m.name}.{f.name}: {what} {a!r}; ONNX has {b!r}")
        enums(m.enum_type, r.enum_type, f"{where}{m.name}.")
        messages(m.nested_type, r.nested_type, f"{where}{m.name}.")


if ours.syntax != theirs.syntax or ours.package != theirs.package:
    problems.append(f"syntax {ours.syntax!r} package {ours.package!r}; ONNX has {theirs.syntax!r} {theirs.package!r}")
enums(ours.enum_type, theirs.enum_type, "")
messages(ours.message_type, theirs.message_type, "")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print("ok", checked, "fields and enum values agree with onnx", onnx.__version__)
